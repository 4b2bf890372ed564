// Implements layout detection (see reader.hpp): 1.3.1 trees have vkitti_1.3.1_<modality>/ folders at the root,
// 2.0.3 trees have Scene<NN>/ folders. A root holding both is refused rather than guessed.
#include <filesystem>

#include "core/error.hpp"
#include "data/reader.hpp"
#include "data/reader_v1.hpp"
#include "data/reader_v2.hpp"

namespace sdn::data {

std::unique_ptr<DatasetReader> open_dataset(const std::string& root) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  if (!stdfs::is_directory(root, ec))
    throw Error(root + ": not a directory", "point it at the folder where the vKITTI archives were extracted "
                                            "(or at the output of 'sdn synth')");
  bool v1 = false, v2 = false;
  for (stdfs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.rfind("vkitti_1.3.1_", 0) == 0) v1 = true;
    if (name.size() > 5 && name.rfind("Scene", 0) == 0 &&
        name.find_first_not_of("0123456789", 5) == std::string::npos)
      v2 = true;
  }
  if (v1 && v2)
    throw Error(root + ": holds both a vKITTI 1.3.1 tree (vkitti_1.3.1_*/) and a vKITTI 2.0.3 tree (Scene<NN>/)",
                "extract each dataset version into its own folder");
  if (v1) return std::make_unique<ReaderV1>(root);
  if (v2) return std::make_unique<ReaderV2>(root);
  throw Error(root + ": no vKITTI tree found: looked for vkitti_1.3.1_rgb/ (vKITTI 1.3.1) and Scene01/ .. Scene20/ "
                     "(vKITTI 2.0.3)",
              "point it at the folder where the vKITTI archives were extracted, or create one with 'sdn synth'");
}

}  // namespace sdn::data

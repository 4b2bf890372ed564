// `sdn predict` of the semantic stage, like the original vkitti_test.py: per frame a label PNG (argmax 0..12, the
// values the textural branch reads after +1) and a colourised strip image | prediction | ground truth, under
// OUT/<world>/<variation>/.
#include <cstdio>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "data/vkitti.hpp"
#include "dist/mpi_session.hpp"
#include "train/stages/semantic_stage.hpp"

namespace sdn::train {
namespace {

// Colour of a 3D-SDN class id (255 and out of range: black).
const std::uint8_t* colour_of(int id) {
  static const std::uint8_t black[3] = {0, 0, 0};
  return id >= 0 && id < data::kNumClasses ? data::class_colors()[static_cast<size_t>(id)].data() : black;
}

}  // namespace

std::string SemanticStage::predict(const data::ShardSet& set, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  model_->eval();
  const auto scales = scales_or_default(options);
  std::vector<std::int64_t> indices = options.indices;
  if (indices.empty())
    for (std::int64_t i = 0; i < (options.limit > 0 ? std::min(options.limit, set.size()) : set.size()); ++i)
      indices.push_back(i);
  auto mine = data::eval_range(static_cast<std::int64_t>(indices.size()), comm.rank(), comm.size());
  // The label PNG stores raw argmax values (0..13); its palette shows them in the class colours.
  data::img::Palette palette;
  for (int c = 0; c < options_.model.num_classes; ++c) {
    const auto* rgb = colour_of(c + 1);
    palette.push_back({rgb[0], rgb[1], rgb[2]});
  }
  data::Sample s;
  for (std::int64_t k = mine.begin; k < mine.end; ++k) {
    const auto i = indices[static_cast<size_t>(k)];
    if (i < 0 || i >= set.size())
      throw UsageError("--indices: " + std::to_string(i) + " is outside the split's " + std::to_string(set.size()) + " samples");
    set.read(i, fields(), s);
    auto info = set.info(i);
    auto pred = predict_probabilities(s, scales).argmax(1).to(torch::kCPU).to(torch::kUInt8).contiguous();
    const auto* p = pred.data_ptr<std::uint8_t>();
    const int w = s.width, h = s.height;
    data::img::Image8 label{w, h, 1, std::vector<std::uint8_t>(p, p + static_cast<size_t>(w) * h)};
    data::img::Image8 strip{3 * w, h, 3, std::vector<std::uint8_t>(static_cast<size_t>(3) * w * h * 3)};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t px = static_cast<size_t>(y) * w + x;
        auto* row = &strip.pixels[(static_cast<size_t>(y) * 3 * w) * 3];
        // Output channel c is class c+1 (Misc was never a target).
        const std::uint8_t* pc = colour_of(p[px] + 1);
        const std::uint8_t* gc = colour_of(s.classes[px]);
        for (int ch = 0; ch < 3; ++ch) {
          row[static_cast<size_t>(x) * 3 + ch] = s.rgb[px * 3 + ch];
          row[static_cast<size_t>(w + x) * 3 + ch] = pc[ch];
          row[static_cast<size_t>(2 * w + x) * 3 + ch] = gc[ch];
        }
      }
    const std::string dir = options.out + "/" + info.world + "/" + info.variation;
    fs::ensure_writable_dir(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%05d", info.frame);
    data::img::write_png_rgb8(dir + "/" + name + "_vis.png", strip);
    data::img::write_png_palette(dir + "/" + name + ".png", label, palette);
  }
  return "label maps for " + std::to_string(indices.size()) + " frame(s) in " + options.out;
}

}  // namespace sdn::train

// Reader of the vKITTI 1.3.1 layout (reference §5): per-modality root folders, scenegt colours decoded through
// the per-sequence encoding file (classes, and instances from "Car:<tid>" colours), depth PNGs, motgt objects,
// and the constant intrinsics scaled to the image size.
#pragma once

#include <string>

#include "data/reader.hpp"
#include "data/reader_common.hpp"

namespace sdn::data {

class ReaderV1 final : public DatasetReader {
 public:
  // Checks that every modality folder and every sequence's folders and text files exist; throws one Error
  // listing what is missing.
  explicit ReaderV1(std::string root);

  Layout layout() const override { return Layout::kVkitti1; }
  const std::string& root() const override { return root_; }
  std::vector<FrameRef> list_frames(int camera) const override;
  Frame load(const FrameRef& ref) const override;

 private:
  struct Sequence {
    detail::ColorTable colors;
    std::map<int, std::vector<ObjectGT>> objects;  // by frame
    int width = 0, height = 0;                     // size of the sequence's first RGB frame
    std::string first_frame;                       // its path
  };
  Sequence parse_sequence(const std::string& world, const std::string& variation) const;

  std::string root_;
  std::vector<std::pair<std::string, std::string>> sequences_;  // (world, variation) with an RGB folder
  detail::SequenceCache<Sequence> cache_;
};

}  // namespace sdn::data

// Reader of the vKITTI 2.0.3 layout (reference §6): Scene<NN>/<variation>/frames/<modality>/Camera_<k>/, RGB
// JPEGs, classgt decoded through colors.txt, instancegt palette indices (= trackID + 1), depth PNGs, objects
// joined from bbox.txt (l r t b order), pose.txt and info.txt on trackID, per-frame intrinsic.txt.
#pragma once

#include <array>
#include <string>
#include <tuple>

#include "data/reader.hpp"
#include "data/reader_common.hpp"

namespace sdn::data {

class ReaderV2 final : public DatasetReader {
 public:
  // Checks every sequence's image folders and text files; throws one Error listing what is missing.
  explicit ReaderV2(std::string root);

  Layout layout() const override { return Layout::kVkitti2; }
  const std::string& root() const override { return root_; }
  std::vector<FrameRef> list_frames(int camera) const override;
  Frame load(const FrameRef& ref) const override;

 private:
  using FrameCamera = std::pair<int, int>;
  struct Sequence {
    detail::ColorTable colors;
    std::map<FrameCamera, std::vector<ObjectGT>> objects;
    std::map<FrameCamera, Intrinsics> intrinsics;
    std::string intrinsic_path;
    std::array<int, 2> width{}, height{};        // size of each camera's first RGB frame
    std::array<std::string, 2> first_frame;      // its path ("" when the camera has no frames)
  };
  Sequence parse_sequence(const std::string& world, const std::string& variation) const;

  std::string root_;
  std::vector<std::pair<std::string, std::string>> sequences_;  // (world "0001", variation)
  detail::SequenceCache<Sequence> cache_;
};

}  // namespace sdn::data

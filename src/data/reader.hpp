// Reading a vKITTI tree of either layout: discovery of sequences and frames, and loading one frame.
// The layout is detected from the directory; errors name the file (and line or pixel) and what to do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/frame.hpp"
#include "data/vkitti.hpp"

namespace sdn::data {

// One frame's identity within a tree.
struct FrameRef {
  std::string world;      // normalised "0001"
  std::string variation;
  int index = 0;
  int camera = 0;
};

class DatasetReader {
 public:
  virtual ~DatasetReader() = default;
  virtual Layout layout() const = 0;
  virtual const std::string& root() const = 0;
  // Every frame present on disk (RGB file exists), sorted by world, variation, camera, index.
  virtual std::vector<FrameRef> list_frames(int camera) const = 0;
  // Loads and decodes one frame: all modalities mapped to the 3D-SDN conventions of frame.hpp.
  // Thread-safe: several packer threads call it concurrently.
  virtual Frame load(const FrameRef& ref) const = 0;
};

// Detects the layout under `root` (vkitti_1.3.1_rgb/... or SceneXX/...) and opens it.
// Throws Error naming `root` and the folders looked for when neither layout is found.
std::unique_ptr<DatasetReader> open_dataset(const std::string& root);

}  // namespace sdn::data

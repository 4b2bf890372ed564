// The normal map of textural.inputs = groundtruth: every Car/Van of the frame's motgt with more than 16^2
// instance pixels rendered with a mesh of the derenderer's bank (sdn's generated vehicles or a derender.meshes-
// style directory) at its ground-truth pose, in the derenderer predict's test-time view (models/derender camera
// + raster_maps), and encoded as its NNNNN-normal.png: (n / 2 + 0.5) * 255, 127 elsewhere (docs/data-format.md).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/sample.hpp"

namespace sdn::train {

struct GroundTruthNormalsOptions {
  std::string meshes;         // directory of the 8 .obj meshes in name order (empty: sdn's generated vehicles)
  int car_mesh = 0;           // bank index rendered for Car (0: sedan of the generated bank)
  int van_mesh = 7;           // and for Van (7: van)
  int max_render_size = 384;  // the derenderer predict's render size; smaller objects render at their box size
};

class GroundTruthNormals {
 public:
  explicit GroundTruthNormals(const GroundTruthNormalsOptions& options);

  // H*W*3 RGB of `s` (needs its instance map, objects and intrinsics). Each object is painted only on its own
  // instance pixels that its render covers (the ground-truth instance map decides occlusion).
  std::vector<std::uint8_t> render(const data::Sample& s) const;

 private:
  GroundTruthNormalsOptions options_;
  std::vector<torch::Tensor> vertices_, faces_;  // per bank mesh, in the object frame of normalise_shapenet
};

}  // namespace sdn::train

// The derenderer's reprojection path (original: Derenderer3d.render): the mesh bank (the 8 meshes with their
// FFD bases), the mesh choice per object (sampled from the class probabilities in training, from a uniform the
// caller derives from (seed, epoch, object) so resume is exact; argmax otherwise), FFD, pose, view and the
// silhouette renderer, giving one render_size² silhouette per object.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/derender/camera.hpp"
#include "models/derender/derenderer.hpp"
#include "models/derender/silhouette.hpp"

namespace sdn::models::derender {

// The meshes the derenderer chooses from, in class order, in the object frame of data::normalise_shapenet.
class MeshBank {
 public:
  // vertices [V, 3] float, faces [F, 3] int64 (0-based).
  void add(const torch::Tensor& vertices, const torch::Tensor& faces, int64_t grid = 4);
  int64_t size() const { return static_cast<int64_t>(vertices_.size()); }
  const torch::Tensor& vertices(int64_t k) const { return vertices_.at(static_cast<size_t>(k)); }
  const torch::Tensor& faces(int64_t k) const { return faces_.at(static_cast<size_t>(k)); }
  const torch::Tensor& basis(int64_t k) const { return bases_.at(static_cast<size_t>(k)); }
  // Moves every tensor to `device` (call once after building).
  void to(const torch::Device& device);

 private:
  std::vector<torch::Tensor> vertices_, faces_, bases_;
};

struct MeshChoice {
  torch::Tensor index;      // [N] int64
  torch::Tensor log_probs;  // [N] log p(chosen mesh), differentiable in the class logits
};

// uniforms empty: the most probable mesh (the original's eval). Otherwise one uniform in [0, 1) per object,
// inverted through the CDF of its class probabilities (the original's Categorical(class_probs).sample()).
MeshChoice choose_meshes(const DerendererOutputs& out, const std::vector<double>& uniforms);

struct ReprojectOptions {
  TORCH_ARG(double, image_size) = 256;   // px the ROI spans in the training view
  TORCH_ARG(int64_t, render_size) = 384;
  TORCH_ARG(bool, fit) = false;          // the test-time view (object fills the render) instead of the ROI zoom
  TORCH_ARG(SilhouetteOptions, silhouette) = SilhouetteOptions();
};

struct Reprojection {
  torch::Tensor masks;  // [N, 1, render_size, render_size]
  torch::Tensor zooms;  // [N, 1]
  std::vector<torch::Tensor> vertices;  // per object, camera space (after FFD, pose and view)
  std::vector<torch::Tensor> faces;     // per object, of its chosen mesh
  std::vector<double> tan_halfs;        // per object: render_size / (2 f)
};
// The test outputs' depth and normal maps of the same objects: render_depth_normal(r.vertices, r.faces,
// r.tan_halfs, RasterMapsOptions().image_size(render_size)) (models/derender/raster_maps.hpp).

// Renders each object's chosen mesh deformed by its FFD coefficients, posed by `pose`. focals [N] or [N, 1].
Reprojection reproject(const MeshBank& bank, const DerendererOutputs& out, const Pose& pose, const MeshChoice& choice,
                       const torch::Tensor& mroi_norms, const torch::Tensor& droi_norms, const torch::Tensor& focals,
                       const ReprojectOptions& options);

}  // namespace sdn::models::derender

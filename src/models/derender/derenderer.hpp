// The 3D-SDN derenderer network (original: geometric/derender3d/models/derenderer.py): ResNet-18 on the 224x224
// ROI crop -> fc 512->256 -> ReLU, concatenated with the ROI's normalised centre (v, u) and size (h, w), then
// fc1 260->256 -> ReLU -> fc2 256->256 -> ReLU -> _fc3 256->1552. State_dict names as the original
// (net.*, fc1, fc2, _fc3); decode() splits and post-processes the 1552 outputs exactly as its forward does.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/derender/resnet18.hpp"

namespace sdn::models::derender {

struct DerendererOptions {
  TORCH_ARG(int64_t, num_classes) = 8;  // meshes to choose from
  TORCH_ARG(int64_t, grid_size) = 4;    // FFD lattice points per axis
  TORCH_ARG(std::uint64_t, seed) = 0;   // the whole init is a function of it
};

// The original's output dictionary, in its split order (sizes for 8 meshes and a 4^3 lattice).
struct DerendererOutputs {
  torch::Tensor theta_deltas;   // [N, 2] (cos θ, sin θ), L2-normalised
  torch::Tensor translation2ds; // [N, 2] projected centre offset from the ROI centre, in ROI units
  torch::Tensor log_scales;     // [N, 3] log (length, height, 1.2206 width)
  torch::Tensor log_depths;     // [N, 1] log(|t|^2 * droi_h * droi_w)
  torch::Tensor class_logits;   // [N, num_classes] before the softmax (for a stable log-probability)
  torch::Tensor class_probs;    // [N, num_classes] softmax over the meshes
  torch::Tensor ffd_coeffs;     // [N, num_classes, 3 * grid^3] raw (unconstrained) lattice displacements
};

// (mroi, droi) from roi_norms [N, 4] = (t, l, b, r) normalised: centre (v, u) and size (h, w) [N, 2] each,
// as Derenderer3d.forward computes them.
void roi_centre_size(const torch::Tensor& roi_norms, torch::Tensor& mroi_norms, torch::Tensor& droi_norms);

class DerendererImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kHidden = 256;
  static constexpr int64_t kRoiInputs = 4;

  explicit DerendererImpl(const DerendererOptions& options = {});

  // images [N, 3, 224, 224] (normalised), mroi_norms [N, 2], droi_norms [N, 2] -> raw outputs [N, out_size()].
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& mroi_norms, const torch::Tensor& droi_norms);
  // Splits raw outputs into the original's quantities (normalise θ, softmax the mesh logits, view the FFD).
  DerendererOutputs decode(const torch::Tensor& raw) const;

  // 2 + 2 + 3 + 1 + num_classes + num_classes * 3 * grid^3 (1552 for the defaults).
  int64_t out_size() const;
  int64_t ffd_size() const { return 3 * options.grid_size() * options.grid_size() * options.grid_size(); }
  // Re-runs the seeded init (torchvision ResNet init, torch.nn.Linear defaults for the heads).
  void init_weights(std::uint64_t seed);

  DerendererOptions options;
  Resnet18 net{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};  // fc3 is registered as "_fc3"
};
TORCH_MODULE(Derenderer);

}  // namespace sdn::models::derender

// The derenderer's loss terms, named and weighted as the original's BaseNet.step_batch (scripts/main.py):
// pretrain (geometry): theta_delta_loss, translation2d_loss, scale_loss, depth_loss, each a mean MSE;
// full adds (reprojection): mask_loss = mean over objects of mask_weight * mean over pixels of
// (1 - ignore) * (rendered - mask)^2, class_reward = mean(log p(chosen mesh) * per-object mask loss, detached)
// (REINFORCE without a baseline), ffd_coeff_reg = weight * mean(ffd_coeffs^2). The total is their sum.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "models/derender/derenderer.hpp"

namespace sdn::models::derender {

using LossTerms = std::vector<std::pair<std::string, torch::Tensor>>;

struct GeometryTargets {
  torch::Tensor theta_deltas;    // [N, 2] (cos θ, sin θ)
  torch::Tensor translation2ds;  // [N, 2]
  torch::Tensor log_scales;      // [N, 3]
  torch::Tensor log_depths;      // [N, 1]
};

LossTerms geometry_losses(const DerendererOutputs& out, const GeometryTargets& targets);

// Centres a [N, 1, h, w] crop in the render's [N, 1, S, S] frame: masks zero-padded, ignores edge-replicated
// (Transforms.pad_like, which pads (S - h) / 2 on each side).
torch::Tensor pad_to_render(const torch::Tensor& crop, int64_t render_size, bool replicate);

// Per-object mask losses [N] (already multiplied by mask_weight). rendered [N, 1, S, S]; masks and ignores
// [N, 1, h, w] (the 256 crops), padded here.
torch::Tensor mask_losses(const torch::Tensor& rendered, const torch::Tensor& masks, const torch::Tensor& ignores,
                          double mask_weight);

// class_reward, mask_loss, ffd_coeff_reg. log_probs [N] of the chosen meshes; ffd_coeffs as decoded (all meshes).
LossTerms reprojection_losses(const torch::Tensor& per_object_mask_losses, const torch::Tensor& log_probs,
                              const torch::Tensor& ffd_coeffs, double ffd_coeff_reg);

torch::Tensor total(const LossTerms& terms);

}  // namespace sdn::models::derender

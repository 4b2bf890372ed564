// Pyramid RoIAlign of the original (model.py pyramid_roi_align): each box goes to level
// k = clamp(round(4 + log2(sqrt(h w) / (224 / S))), 2, 5) (h, w normalised, S the padded image side, so a
// 224-px box lands on P4) and is cropped from that level with crop_and_resize(pool, pool, extrapolation 0).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sdn::models::maskrcnn {

// Pyramid level (2..5) of each normalised box [N, 4] in an image of side `image_size`; int64 [N].
torch::Tensor roi_levels(const torch::Tensor& boxes, int64_t image_size);

// features = {P2, P3, P4, P5} ([B, C, H_k, W_k]), boxes [N, 4] normalised, box_ind [N] -> [N, C, pool, pool]
// in the order of the boxes. Gradient reaches the features only.
torch::Tensor pyramid_roi_align(const std::vector<torch::Tensor>& features, const torch::Tensor& boxes,
                                const torch::Tensor& box_ind, int64_t pool, int64_t image_size);

}  // namespace sdn::models::maskrcnn

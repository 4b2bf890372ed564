// Box arithmetic of the original (model.py apply_box_deltas, clip_boxes, bbox_overlaps; utils.py
// box_refinement): boxes are (y1, x1, y2, x2) rows, deltas (dy, dx, log dh, log dw) in centre/size form.
// IoU here has no +1 pixel term (the original's target code); NMS (nms.hpp) has its own +1 convention.
#pragma once

#include <torch/torch.h>

#include <array>

namespace sdn::models::maskrcnn {

// boxes [N, 4], deltas [N, 4] -> refined boxes [N, 4].
torch::Tensor apply_box_deltas(const torch::Tensor& boxes, const torch::Tensor& deltas);

// Clamps y to [window y1, y2] and x to [window x1, x2]; window = (y1, x1, y2, x2).
torch::Tensor clip_boxes(const torch::Tensor& boxes, std::array<double, 4> window);

// The deltas that turn `box` into `gt_box` (both [N, 4]).
torch::Tensor box_refinement(const torch::Tensor& box, const torch::Tensor& gt_box);

// IoU matrix [N, M] of boxes1 [N, 4] against boxes2 [M, 4], areas (y2 - y1) * (x2 - x1).
torch::Tensor box_iou(const torch::Tensor& boxes1, const torch::Tensor& boxes2);

// [1, 4] tensor of the four values, with the dtype and device of `like`.
torch::Tensor row4(std::array<double, 4> v, const torch::Tensor& like);

}  // namespace sdn::models::maskrcnn

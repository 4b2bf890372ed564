// TF crop_and_resize as the original's roialign/ extension computes it (crop_and_resize_kernel.cu): a box
// (y1, x1, y2, x2) in coordinates normalised to the image maps through (H - 1): row i of the crop samples
// in_y = y1 (H - 1) + i (y2 - y1) (H - 1) / (crop_h - 1) (the box centre when crop_h = 1), the same for x;
// one bilinear sample per output cell; a sample outside [0, H - 1] x [0, W - 1] is the extrapolation value.
// Written with ATen gathers, so it runs on any device and autograd gives the image gradient; boxes get none.
#pragma once

#include <torch/torch.h>

namespace sdn::models::maskrcnn {

// image [B, C, H, W], boxes [N, 4], box_ind [N] (integers in [0, B)) -> crops [N, C, crop_h, crop_w].
torch::Tensor crop_and_resize(const torch::Tensor& image, const torch::Tensor& boxes, const torch::Tensor& box_ind,
                              int64_t crop_h, int64_t crop_w, double extrapolation_value = 0.0);

}  // namespace sdn::models::maskrcnn

// Greedy non-maximum suppression with the original's conventions (nms/src/cuda/nms_kernel.cu, the path the
// original trained on): pixel boxes (y1, x1, y2, x2), areas and intersections with the +1 pixel term
// ((y2 - y1 + 1) * (x2 - x1 + 1)), and a box is suppressed by a kept higher-scoring one when IoU > threshold.
// CPU: a direct greedy loop; CUDA: the IoU matrix in ATen on the device, the greedy scan on the host.
#pragma once

#include <torch/torch.h>

namespace sdn::models::maskrcnn {

// boxes [N, 4], scores [N] (same device) -> int64 indices into boxes of the kept ones, by descending score
// (ties keep the input order). No gradient.
torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold);

}  // namespace sdn::models::maskrcnn

// The RPN anchors of the original (utils.py generate_pyramid_anchors): per pyramid level one scale times every
// ratio (h = scale / sqrt(ratio), w = scale * sqrt(ratio)), centred on (i * stride, j * stride) with no
// half-stride offset, as pixel boxes (y1, x1, y2, x2), neither clipped nor filtered. Order: level, row, column,
// ratio, which is the order of the RPN's outputs.
#pragma once

#include <torch/torch.h>

#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

// [sum_l 3 * ceil(S / stride_l)^2 (for stride 1), 4] float32 on the CPU.
torch::Tensor generate_pyramid_anchors(const MaskRcnnOptions& options);

// One level: `shape` = {rows, cols} of its feature map.
torch::Tensor generate_anchors(double scale, const std::vector<double>& ratios, std::array<int64_t, 2> shape,
                               int64_t feature_stride, int64_t anchor_stride);

}  // namespace sdn::models::maskrcnn

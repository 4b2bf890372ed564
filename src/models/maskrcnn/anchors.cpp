// Implements the anchor grid (see anchors.hpp). Computed in double as numpy does, stored as float32.
#include "models/maskrcnn/anchors.hpp"

#include <cmath>

namespace sdn::models::maskrcnn {

torch::Tensor generate_anchors(double scale, const std::vector<double>& ratios, std::array<int64_t, 2> shape,
                               int64_t feature_stride, int64_t anchor_stride) {
  std::vector<double> out;
  for (int64_t y = 0; y < shape[0]; y += anchor_stride) {
    for (int64_t x = 0; x < shape[1]; x += anchor_stride) {
      const double cy = static_cast<double>(y * feature_stride), cx = static_cast<double>(x * feature_stride);
      for (double r : ratios) {
        const double h = scale / std::sqrt(r), w = scale * std::sqrt(r);
        out.insert(out.end(), {cy - 0.5 * h, cx - 0.5 * w, cy + 0.5 * h, cx + 0.5 * w});
      }
    }
  }
  const auto n = static_cast<int64_t>(out.size() / 4);
  return torch::from_blob(out.data(), {n, 4}, torch::kDouble).to(torch::kFloat);
}

torch::Tensor generate_pyramid_anchors(const MaskRcnnOptions& o) {
  const auto shapes = o.backbone_shapes();
  std::vector<torch::Tensor> levels;
  for (size_t i = 0; i < o.rpn_anchor_scales.size(); ++i)
    levels.push_back(generate_anchors(o.rpn_anchor_scales[i], o.rpn_anchor_ratios, {shapes[i], shapes[i]},
                                      o.backbone_strides[i], o.rpn_anchor_stride));
  return torch::cat(levels, 0);
}

}  // namespace sdn::models::maskrcnn

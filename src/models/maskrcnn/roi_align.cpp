// Implements the pyramid RoIAlign (see roi_align.hpp).
#include "models/maskrcnn/roi_align.hpp"

#include <cmath>

#include "models/maskrcnn/crop_and_resize.hpp"

namespace sdn::models::maskrcnn {

torch::Tensor roi_levels(const torch::Tensor& boxes, int64_t image_size) {
  torch::NoGradGuard no_grad;
  auto b = boxes.detach().to(torch::kFloat);
  auto h = b.select(1, 2) - b.select(1, 0), w = b.select(1, 3) - b.select(1, 1);
  const double unit = 224.0 / std::sqrt(static_cast<double>(image_size * image_size));
  // Clamping before the integer cast keeps degenerate (zero-area: -inf) boxes on P2 as the original's int cast did.
  auto level = (4 + torch::log2((h * w).sqrt() / unit)).round().clamp(2, 5);
  return level.nan_to_num(2).to(torch::kLong);
}

torch::Tensor pyramid_roi_align(const std::vector<torch::Tensor>& features, const torch::Tensor& boxes,
                                const torch::Tensor& box_ind, int64_t pool, int64_t image_size) {
  TORCH_CHECK(features.size() == 4, "pyramid_roi_align: expected the 4 levels P2..P5");
  const auto& ref = features[0];
  if (boxes.size(0) == 0) return torch::zeros({0, ref.size(1), pool, pool}, ref.options());
  auto levels = roi_levels(boxes, image_size).to(boxes.device());
  std::vector<torch::Tensor> pooled, order;
  for (int64_t level = 2; level <= 5; ++level) {
    auto ix = (levels == level).nonzero().select(1, 0);
    if (ix.size(0) == 0) continue;
    pooled.push_back(crop_and_resize(features[level - 2], boxes.index_select(0, ix).detach(),
                                     box_ind.to(boxes.device()).index_select(0, ix), pool, pool, 0.0));
    order.push_back(ix);
  }
  // Back to the input order (the original's sort of box_to_level).
  auto inverse = std::get<1>(torch::cat(order).sort());
  return torch::cat(pooled).index_select(0, inverse.to(ref.device()));
}

}  // namespace sdn::models::maskrcnn

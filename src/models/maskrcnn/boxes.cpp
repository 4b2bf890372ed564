// Implements the box arithmetic (see boxes.hpp).
#include "models/maskrcnn/boxes.hpp"

namespace sdn::models::maskrcnn {

torch::Tensor apply_box_deltas(const torch::Tensor& boxes, const torch::Tensor& deltas) {
  auto h = boxes.select(1, 2) - boxes.select(1, 0);
  auto w = boxes.select(1, 3) - boxes.select(1, 1);
  auto cy = boxes.select(1, 0) + 0.5 * h + deltas.select(1, 0) * h;
  auto cx = boxes.select(1, 1) + 0.5 * w + deltas.select(1, 1) * w;
  h = h * deltas.select(1, 2).exp();
  w = w * deltas.select(1, 3).exp();
  auto y1 = cy - 0.5 * h, x1 = cx - 0.5 * w;
  return torch::stack({y1, x1, y1 + h, x1 + w}, 1);
}

torch::Tensor clip_boxes(const torch::Tensor& boxes, std::array<double, 4> win) {
  return torch::stack({boxes.select(1, 0).clamp(win[0], win[2]), boxes.select(1, 1).clamp(win[1], win[3]),
                       boxes.select(1, 2).clamp(win[0], win[2]), boxes.select(1, 3).clamp(win[1], win[3])},
                      1);
}

torch::Tensor box_refinement(const torch::Tensor& box, const torch::Tensor& gt) {
  auto h = box.select(1, 2) - box.select(1, 0), w = box.select(1, 3) - box.select(1, 1);
  auto gh = gt.select(1, 2) - gt.select(1, 0), gw = gt.select(1, 3) - gt.select(1, 1);
  auto dy = (gt.select(1, 0) + 0.5 * gh - (box.select(1, 0) + 0.5 * h)) / h;
  auto dx = (gt.select(1, 1) + 0.5 * gw - (box.select(1, 1) + 0.5 * w)) / w;
  return torch::stack({dy, dx, (gh / h).log(), (gw / w).log()}, 1);
}

torch::Tensor box_iou(const torch::Tensor& b1, const torch::Tensor& b2) {
  auto a = b1.unsqueeze(1), b = b2.unsqueeze(0);  // [N, 1, 4], [1, M, 4]
  auto y1 = torch::max(a.select(2, 0), b.select(2, 0)), x1 = torch::max(a.select(2, 1), b.select(2, 1));
  auto y2 = torch::min(a.select(2, 2), b.select(2, 2)), x2 = torch::min(a.select(2, 3), b.select(2, 3));
  auto inter = (x2 - x1).clamp_min(0) * (y2 - y1).clamp_min(0);
  auto area1 = (a.select(2, 2) - a.select(2, 0)) * (a.select(2, 3) - a.select(2, 1));
  auto area2 = (b.select(2, 2) - b.select(2, 0)) * (b.select(2, 3) - b.select(2, 1));
  return inter / (area1 + area2 - inter);
}

torch::Tensor row4(std::array<double, 4> v, const torch::Tensor& like) {
  return torch::tensor({v[0], v[1], v[2], v[3]}, torch::kDouble).to(like.options()).view({1, 4});
}

}  // namespace sdn::models::maskrcnn

// Implements NMS (see nms.hpp).
#include "models/maskrcnn/nms.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sdn::models::maskrcnn {
namespace {

// IoU with the +1 convention, float32 arithmetic as in the CUDA kernel's devIoU.
inline float iou_plus1(const float* a, const float* b) {
  const float top = std::max(a[0], b[0]), left = std::max(a[1], b[1]);
  const float bottom = std::min(a[2], b[2]), right = std::min(a[3], b[3]);
  const float h = std::max(bottom - top + 1.0f, 0.0f), w = std::max(right - left + 1.0f, 0.0f);
  const float inter = h * w;
  const float sa = (a[2] - a[0] + 1.0f) * (a[3] - a[1] + 1.0f), sb = (b[2] - b[0] + 1.0f) * (b[3] - b[1] + 1.0f);
  return inter / (sa + sb - inter);
}

std::vector<int64_t> greedy_cpu(const torch::Tensor& sorted_boxes, float thr) {
  const int64_t n = sorted_boxes.size(0);
  const float* b = sorted_boxes.data_ptr<float>();
  std::vector<char> removed(static_cast<size_t>(n), 0);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i) {
    if (removed[i]) continue;
    keep.push_back(i);
    for (int64_t j = i + 1; j < n; ++j)
      if (!removed[j] && iou_plus1(b + 4 * i, b + 4 * j) > thr) removed[j] = 1;
  }
  return keep;
}

// The device computes which pairs overlap; the host scans them in score order (the CUDA original's split).
std::vector<int64_t> greedy_device(const torch::Tensor& sorted_boxes, float thr) {
  const int64_t n = sorted_boxes.size(0);
  auto a = sorted_boxes.unsqueeze(1), b = sorted_boxes.unsqueeze(0);
  auto h = (torch::min(a.select(2, 2), b.select(2, 2)) - torch::max(a.select(2, 0), b.select(2, 0)) + 1).clamp_min(0);
  auto w = (torch::min(a.select(2, 3), b.select(2, 3)) - torch::max(a.select(2, 1), b.select(2, 1)) + 1).clamp_min(0);
  auto area = (sorted_boxes.select(1, 2) - sorted_boxes.select(1, 0) + 1) *
              (sorted_boxes.select(1, 3) - sorted_boxes.select(1, 1) + 1);
  auto inter = h * w;
  auto over = (inter / (area.unsqueeze(1) + area.unsqueeze(0) - inter) > thr).to(torch::kCPU).to(torch::kUInt8);
  const std::uint8_t* m = over.data_ptr<std::uint8_t>();
  std::vector<char> removed(static_cast<size_t>(n), 0);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i) {
    if (removed[i]) continue;
    keep.push_back(i);
    const std::uint8_t* row = m + i * n;
    for (int64_t j = i + 1; j < n; ++j) removed[j] |= row[j];
  }
  return keep;
}

}  // namespace

torch::Tensor nms(const torch::Tensor& boxes, const torch::Tensor& scores, double threshold) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4]");
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [N]");
  torch::NoGradGuard no_grad;
  if (boxes.size(0) == 0) return torch::empty({0}, boxes.options().dtype(torch::kLong));
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  auto sorted = boxes.index_select(0, order).to(torch::kFloat).contiguous();
  const auto thr = static_cast<float>(threshold);
  auto keep = boxes.is_cuda() ? greedy_device(sorted, thr) : greedy_cpu(sorted, thr);
  auto k = torch::from_blob(keep.data(), {static_cast<int64_t>(keep.size())}, torch::kLong).to(order.device());
  return order.index_select(0, k);
}

}  // namespace sdn::models::maskrcnn

// Implements COCO-style detection AP (see maskrcnn_metrics.hpp).
#include "train/stages/maskrcnn_metrics.hpp"

#include <algorithm>

namespace sdn::train {

std::vector<DetectionRecord> match_image(const std::vector<int>& det_class, const std::vector<double>& det_score,
                                         const std::vector<int>& gt_class, const torch::Tensor& iou_box,
                                         const torch::Tensor& iou_mask) {
  const size_t d = det_class.size(), g = gt_class.size();
  std::vector<DetectionRecord> out(d);
  for (size_t i = 0; i < d; ++i) out[i] = {det_class[i], det_score[i], 0, 0};
  if (g == 0 || d == 0) return out;
  for (int which = 0; which < 2; ++which) {
    auto iou = (which == 0 ? iou_box : iou_mask).to(torch::kDouble).contiguous();
    auto a = iou.accessor<double, 2>();
    for (int t = 0; t < kIouThresholds; ++t) {
      const double thr = 0.5 + 0.05 * t;
      std::vector<bool> taken(g, false);
      for (size_t i = 0; i < d; ++i) {
        double best = std::min(thr, 1 - 1e-10);
        int m = -1;
        for (size_t j = 0; j < g; ++j) {
          if (taken[j] || gt_class[j] != det_class[i]) continue;
          if (a[i][j] < best) continue;
          best = a[i][j];
          m = static_cast<int>(j);
        }
        if (m < 0) continue;
        taken[static_cast<size_t>(m)] = true;
        (which == 0 ? out[i].box_tp : out[i].mask_tp) |= 1u << t;
      }
    }
  }
  return out;
}

torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.to(torch::kDouble).unsqueeze(1), y = b.to(torch::kDouble).unsqueeze(0);
  auto area = [](const torch::Tensor& t) {
    return (t.select(-1, 2) - t.select(-1, 0)).clamp_min(0) * (t.select(-1, 3) - t.select(-1, 1)).clamp_min(0);
  };
  auto h = (torch::min(x.select(-1, 2), y.select(-1, 2)) - torch::max(x.select(-1, 0), y.select(-1, 0))).clamp_min(0);
  auto w = (torch::min(x.select(-1, 3), y.select(-1, 3)) - torch::max(x.select(-1, 1), y.select(-1, 1))).clamp_min(0);
  auto inter = h * w;
  auto uni = area(x) + area(y) - inter;
  return torch::where(uni > 0, inter / uni.clamp_min(1e-12), torch::zeros_like(uni));
}

torch::Tensor mask_iou(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.flatten(1).to(torch::kDouble), y = b.flatten(1).to(torch::kDouble);
  auto inter = x.matmul(y.t());
  auto uni = x.sum(1).unsqueeze(1) + y.sum(1).unsqueeze(0) - inter;
  return torch::where(uni > 0, inter / uni.clamp_min(1e-12), torch::zeros_like(uni));
}

double average_precision(std::vector<DetectionRecord> records, bool mask, int threshold, std::int64_t npos) {
  if (npos <= 0) return -1;
  std::stable_sort(records.begin(), records.end(),
                   [](const DetectionRecord& a, const DetectionRecord& b) { return a.score > b.score; });
  const size_t n = records.size();
  std::vector<double> recall(n), precision(n);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool hit = ((mask ? records[i].mask_tp : records[i].box_tp) >> threshold) & 1u;
    (hit ? tp : fp) += 1;
    recall[i] = tp / static_cast<double>(npos);
    precision[i] = tp / (tp + fp);
  }
  for (size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
  double sum = 0;
  for (int k = 0; k <= 100; ++k) {
    const double r = k * 0.01;  // np.linspace(0, 1, 101) as COCOeval builds recThrs
    // pycocotools: np.searchsorted(rc, recThrs, side='left'); beyond the last recall the precision is 0.
    auto it = std::lower_bound(recall.begin(), recall.end(), r);
    if (it != recall.end()) sum += precision[static_cast<size_t>(it - recall.begin())];
  }
  return sum / 101.0;
}

}  // namespace sdn::train

// Implements the detection layer and its mapping back to the frame (see detection.hpp).
#include "models/maskrcnn/detection.hpp"

#include <algorithm>
#include <cmath>

#include "models/maskrcnn/boxes.hpp"
#include "models/maskrcnn/nms.hpp"

namespace sdn::models::maskrcnn {

Detections refine_detections(const torch::Tensor& rois, const torch::Tensor& probs, const torch::Tensor& deltas,
                             std::array<double, 4> window, const MaskRcnnOptions& o) {
  torch::NoGradGuard no_grad;
  Detections d;
  auto top = probs.max(1);
  auto class_ids = std::get<1>(top), scores = std::get<0>(top);
  auto idx = torch::arange(rois.size(0), class_ids.options());
  auto specific = deltas.index({idx, class_ids}) * row4(o.rpn_bbox_std_dev, deltas);
  const double s = static_cast<double>(o.image_size());
  auto refined = (apply_box_deltas(rois, specific) * s);
  refined = clip_boxes(refined, window).round();

  auto keep_bool = class_ids > 0;
  if (o.detection_min_confidence > 0) keep_bool = keep_bool & (scores >= o.detection_min_confidence);
  auto keep = keep_bool.nonzero().select(1, 0);
  std::vector<torch::Tensor> kept;
  auto pre_ids = class_ids.index_select(0, keep);
  for (int64_t c = 1; c < o.num_classes; ++c) {
    auto ixs = (pre_ids == c).nonzero().select(1, 0);
    if (ixs.size(0) == 0) continue;
    auto members = keep.index_select(0, ixs);
    auto k = nms(refined.index_select(0, members), scores.index_select(0, members), o.detection_nms_threshold);
    kept.push_back(members.index_select(0, k));
  }
  torch::Tensor final_ids = kept.empty() ? torch::zeros({0}, keep.options()) : std::get<0>(torch::cat(kept).sort());
  // Top detections by score; the ascending index order before the stable sort breaks ties as the original.
  auto order = std::get<1>(scores.index_select(0, final_ids).sort(/*stable=*/true, 0, /*descending=*/true));
  final_ids = final_ids.index_select(0, order).slice(0, 0, o.detection_max_instances);
  d.boxes = refined.index_select(0, final_ids);
  d.class_ids = class_ids.index_select(0, final_ids);
  d.scores = scores.index_select(0, final_ids);
  return d;
}

torch::Tensor unmold_mask(const torch::Tensor& mask, std::array<int64_t, 4> box, int64_t height, int64_t width) {
  auto full = torch::zeros({height, width}, torch::kUInt8);
  const int64_t bh = box[2] - box[0], bw = box[3] - box[1];
  if (bh <= 0 || bw <= 0) return full;
  auto m = mask.detach().to(torch::kCPU, torch::kFloat);
  // imresize converts float input to bytes by stretching [min, max] to [0, 255] (a constant mask becomes 0).
  const float lo = m.min().item<float>(), hi = m.max().item<float>();
  m = (m - lo) / (hi > lo ? hi - lo : 1.0f);
  auto r = torch::nn::functional::interpolate(m.view({1, 1, m.size(0), m.size(1)}),
                                              torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{bh, bw})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false)
                                                  .antialias(bh < m.size(0) || bw < m.size(1)))
               .view({bh, bw});
  auto bin = (r >= 0.5).to(torch::kUInt8);
  // Paste the part of the box inside the frame (the original's numpy slice assignment).
  const int64_t y0 = std::max<int64_t>(box[0], 0), x0 = std::max<int64_t>(box[1], 0);
  const int64_t y1 = std::min<int64_t>(box[2], height), x1 = std::min<int64_t>(box[3], width);
  if (y1 > y0 && x1 > x0)
    full.slice(0, y0, y1).slice(1, x0, x1).copy_(
        bin.slice(0, y0 - box[0], y1 - box[0]).slice(1, x0 - box[1], x1 - box[1]));
  return full;
}

FrameDetections unmold_detections(const Detections& d, const ImageWindow& w) {
  torch::NoGradGuard no_grad;
  auto boxes = d.boxes.to(torch::kCPU, torch::kDouble);
  const double h_scale = static_cast<double>(w.frame_height) / static_cast<double>(w.window[2] - w.window[0]);
  const double w_scale = static_cast<double>(w.frame_width) / static_cast<double>(w.window[3] - w.window[1]);
  const double scale = std::min(h_scale, w_scale);
  auto shift = torch::tensor({static_cast<double>(w.window[0]), static_cast<double>(w.window[1]),
                              static_cast<double>(w.window[0]), static_cast<double>(w.window[1])},
                             torch::kDouble)
                   .view({1, 4});
  // astype(np.int32) truncates toward zero.
  auto frame_boxes = ((boxes - shift) * scale).trunc().to(torch::kInt);
  auto area =
      (frame_boxes.select(1, 2) - frame_boxes.select(1, 0)) * (frame_boxes.select(1, 3) - frame_boxes.select(1, 1));
  auto keep = (area > 0).nonzero().select(1, 0);
  FrameDetections out;
  out.boxes = frame_boxes.index_select(0, keep);
  out.class_ids = d.class_ids.to(torch::kCPU).index_select(0, keep);
  out.scores = d.scores.to(torch::kCPU).index_select(0, keep);
  out.masks = torch::zeros({keep.size(0), w.frame_height, w.frame_width}, torch::kUInt8);
  auto masks = d.masks.defined() ? d.masks.to(torch::kCPU).index_select(0, keep) : torch::Tensor();
  auto acc = out.boxes.accessor<int, 2>();
  for (int64_t i = 0; masks.defined() && i < keep.size(0); ++i)
    out.masks[i].copy_(
        unmold_mask(masks[i], {acc[i][0], acc[i][1], acc[i][2], acc[i][3]}, w.frame_height, w.frame_width));
  return out;
}

}  // namespace sdn::models::maskrcnn

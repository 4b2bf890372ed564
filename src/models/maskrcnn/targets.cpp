// Implements the RPN and detection targets (see targets.hpp).
#include "models/maskrcnn/targets.hpp"

#include "models/maskrcnn/boxes.hpp"
#include "models/maskrcnn/crop_and_resize.hpp"

namespace sdn::models::maskrcnn {
namespace {

// Sets `value` on `count` random members of `ids` (np.random.choice(ids, count, replace=False)).
void reset_random(torch::Tensor& match, const torch::Tensor& ids, int64_t count, int64_t value, at::Generator& gen) {
  if (count <= 0) return;
  auto pick = torch::randperm(ids.size(0), gen, torch::kLong).slice(0, 0, count);
  match.index_fill_(0, ids.index_select(0, pick), value);
}

torch::Tensor random_subset(const torch::Tensor& ids, int64_t count, at::Generator& gen) {
  auto perm = torch::randperm(ids.size(0), gen, torch::kLong).slice(0, 0, count).to(ids.device());
  return ids.index_select(0, perm);
}

}  // namespace

RpnTargets build_rpn_targets(const torch::Tensor& anchors_in, const torch::Tensor& gt_class_ids,
                             const torch::Tensor& gt_boxes_in, const MaskRcnnOptions& o, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  (void)gt_class_ids;  // vKITTI has no crowd boxes (negative ids); every GT box counts
  const auto anchors = anchors_in.to(torch::kCPU, torch::kDouble);
  const int64_t a = anchors.size(0), per_image = o.rpn_train_anchors_per_image;
  RpnTargets t;
  t.match = torch::zeros({a}, torch::kLong);
  t.deltas = torch::zeros({per_image, 4}, torch::kFloat);
  torch::Tensor argmax;
  if (gt_boxes_in.size(0) == 0) {
    t.match.fill_(-1);
  } else {
    // The loader's numpy arithmetic is float64.
    const auto gt = gt_boxes_in.to(torch::kCPU, torch::kDouble);
    auto overlaps = box_iou(anchors, gt);  // [A, G]
    auto best = overlaps.max(1);
    auto iou_max = std::get<0>(best);
    argmax = std::get<1>(best);
    t.match.masked_fill_(iou_max < 0.3, -1);
    t.match.index_fill_(0, std::get<1>(overlaps.max(0)), 1);
    t.match.masked_fill_(iou_max >= 0.7, 1);
  }
  auto pos = (t.match == 1).nonzero().select(1, 0);
  reset_random(t.match, pos, pos.size(0) - per_image / 2, 0, gen);
  auto neg = (t.match == -1).nonzero().select(1, 0);
  const int64_t n_pos = (t.match == 1).sum().item<int64_t>();
  reset_random(t.match, neg, neg.size(0) - (per_image - n_pos), 0, gen);

  pos = (t.match == 1).nonzero().select(1, 0);
  if (pos.size(0) > 0) {
    const auto gt = gt_boxes_in.to(torch::kCPU, torch::kDouble);
    auto d = box_refinement(anchors.index_select(0, pos), gt.index_select(0, argmax.index_select(0, pos)));
    d = d / row4(o.rpn_bbox_std_dev, d);
    t.deltas.slice(0, 0, pos.size(0)).copy_(d);
  }
  return t;
}

DetectionTargets detection_targets(const torch::Tensor& proposals, const torch::Tensor& gt_class_ids,
                                   const torch::Tensor& gt_boxes, const torch::Tensor& gt_masks,
                                   const MaskRcnnOptions& o, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto dev = proposals.options();
  DetectionTargets t;
  t.rois = torch::zeros({0, 4}, dev);
  t.class_ids = torch::zeros({0}, dev.dtype(torch::kLong));
  t.deltas = torch::zeros({0, 4}, dev);
  t.masks = torch::zeros({0, o.mask_shape[0], o.mask_shape[1]}, dev);
  if (proposals.size(0) == 0 || gt_boxes.size(0) == 0) return t;

  auto overlaps = box_iou(proposals, gt_boxes);  // [N, G]
  auto iou_max = std::get<0>(overlaps.max(1));
  auto pos_ids = (iou_max >= 0.5).nonzero().select(1, 0);
  if (pos_ids.size(0) == 0) return t;  // the original's empty case: no negatives either
  // int(200 * 0.33): Python's float product, truncated.
  const auto max_pos = static_cast<int64_t>(static_cast<double>(o.train_rois_per_image) * o.roi_positive_ratio);
  pos_ids = random_subset(pos_ids, max_pos, gen);
  const int64_t n_pos = pos_ids.size(0);
  auto pos_rois = proposals.index_select(0, pos_ids);
  auto assign = std::get<1>(overlaps.index_select(0, pos_ids).max(1));
  auto roi_gt = gt_boxes.index_select(0, assign);
  auto deltas = box_refinement(pos_rois, roi_gt);
  deltas = deltas / row4(o.bbox_std_dev, deltas);

  // Mask targets: each RoI in its GT box's unit frame, cropped from that GT's mini mask, rounded to {0, 1}.
  auto gh = roi_gt.select(1, 2) - roi_gt.select(1, 0), gw = roi_gt.select(1, 3) - roi_gt.select(1, 1);
  auto frame = torch::stack(
      {(pos_rois.select(1, 0) - roi_gt.select(1, 0)) / gh, (pos_rois.select(1, 1) - roi_gt.select(1, 1)) / gw,
       (pos_rois.select(1, 2) - roi_gt.select(1, 0)) / gh, (pos_rois.select(1, 3) - roi_gt.select(1, 1)) / gw},
      1);
  auto roi_masks = gt_masks.to(dev.dtype()).index_select(0, assign).unsqueeze(1);
  auto masks = crop_and_resize(roi_masks, frame, torch::arange(n_pos, dev.dtype(torch::kLong)), o.mask_shape[0],
                               o.mask_shape[1], 0.0)
                   .squeeze(1)
                   .round();

  auto neg_ids = (iou_max < 0.5).nonzero().select(1, 0);
  const double r = 1.0 / o.roi_positive_ratio;
  const auto want_neg = static_cast<int64_t>(r * static_cast<double>(n_pos) - static_cast<double>(n_pos));
  neg_ids = random_subset(neg_ids, want_neg, gen);
  const int64_t n_neg = neg_ids.size(0);

  t.positives = n_pos;
  t.rois = torch::cat({pos_rois, proposals.index_select(0, neg_ids)});
  t.class_ids = torch::cat({gt_class_ids.to(dev.dtype(torch::kLong)).index_select(0, assign),
                            torch::zeros({n_neg}, dev.dtype(torch::kLong))});
  t.deltas = torch::cat({deltas, torch::zeros({n_neg, 4}, dev)});
  t.masks = torch::cat({masks, torch::zeros({n_neg, o.mask_shape[0], o.mask_shape[1]}, dev)});
  return t;
}

}  // namespace sdn::models::maskrcnn

// Training targets of both stages, as the original computes them:
// - build_rpn_targets (model.py build_rpn_targets, run in the original's data loader): anchor labels by IoU
//   (negative < 0.3, positive >= 0.7, plus each GT's best anchor), subsampled to half positives at most of
//   rpn_train_anchors_per_image, and the positive anchors' deltas / RPN_BBOX_STD_DEV in ascending anchor order;
// - detection_targets (model.py detection_target_layer): RoIs with IoU >= 0.5 positive (at most
//   train_rois_per_image * roi_positive_ratio, random), negatives IoU < 0.5 to keep the ratio, box deltas and
//   28x28 mask targets cropped from the mini masks.
// Random subsets come from the caller's generator (one seeded per sample), so a sample's targets are a function
// of its seed and resume is exact.
#pragma once

#include <torch/torch.h>

#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

struct RpnTargets {
  torch::Tensor match;   // int64 [A]: 1 positive, -1 negative, 0 neutral
  torch::Tensor deltas;  // float [rpn_train_anchors_per_image, 4], first #positive rows used, rest zero
};

// anchors [A, 4] and gt_boxes [G, 4] in pixels (CPU), gt_class_ids [G] (> 0). Without GT boxes every anchor
// is a negative candidate. `gen` must be a CPU generator.
RpnTargets build_rpn_targets(const torch::Tensor& anchors, const torch::Tensor& gt_class_ids,
                             const torch::Tensor& gt_boxes, const MaskRcnnOptions& options, at::Generator& gen);

struct DetectionTargets {
  torch::Tensor rois;       // [R, 4] normalised: positives first, then negatives (R may be 0)
  torch::Tensor class_ids;  // int64 [R], 0 for negatives
  torch::Tensor deltas;     // [R, 4] / BBOX_STD_DEV, zero for negatives
  torch::Tensor masks;      // [R, mask_h, mask_w] in {0, 1}, zero for negatives
  int64_t positives = 0;
};

// proposals [N, 4] and gt_boxes [G, 4] normalised, gt_class_ids [G], gt_masks [G, mini_h, mini_w] (mini masks
// of the GT boxes), all on one device. No positives -> empty targets (the heads are skipped). No gradient.
DetectionTargets detection_targets(const torch::Tensor& proposals, const torch::Tensor& gt_class_ids,
                                   const torch::Tensor& gt_boxes, const torch::Tensor& gt_masks,
                                   const MaskRcnnOptions& options, at::Generator& gen);

}  // namespace sdn::models::maskrcnn

// The five Mask R-CNN losses of the original (model.py compute_*_loss), each a mean over its own elements:
// rpn_class (CE over non-neutral anchors), rpn_bbox (smooth L1 over positive anchors' deltas), mrcnn_class
// (CE over every sampled RoI), mrcnn_bbox (smooth L1 over positive RoIs, GT-class deltas) and mrcnn_mask
// (BCE over positive RoIs' GT-class 28x28 masks). A loss with nothing to average is a constant 0 (the
// original's value when no RoI survives the target layer).
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace sdn::models::maskrcnn {

struct MaskRcnnLosses {
  torch::Tensor rpn_class, rpn_bbox, mrcnn_class, mrcnn_bbox, mrcnn_mask;  // scalars
  // Their unweighted sum (the original's training loss).
  torch::Tensor total() const { return rpn_class + rpn_bbox + mrcnn_class + mrcnn_bbox + mrcnn_mask; }
  // Names in the order of terms(), as the stage reports them.
  static const std::array<std::string, 5>& names();
  std::array<torch::Tensor, 5> terms() const { return {rpn_class, rpn_bbox, mrcnn_class, mrcnn_bbox, mrcnn_mask}; }
  // Not a loss: the RoIs the detection target layer sampled per image (the heads' work; benchmarks report it).
  std::vector<int64_t> rois_per_image;
};

// rpn_match int [A], rpn_logits [A, 2].
torch::Tensor rpn_class_loss(const torch::Tensor& rpn_match, const torch::Tensor& rpn_logits);
// target_deltas [T, 4] (first #positive rows used), rpn_match [A], rpn_deltas [A, 4].
torch::Tensor rpn_bbox_loss(const torch::Tensor& target_deltas, const torch::Tensor& rpn_match,
                            const torch::Tensor& rpn_deltas);
// target_class_ids int [R], logits [R, classes].
torch::Tensor mrcnn_class_loss(const torch::Tensor& target_class_ids, const torch::Tensor& logits);
// target_deltas [R, 4], target_class_ids [R], pred_deltas [R, classes, 4].
torch::Tensor mrcnn_bbox_loss(const torch::Tensor& target_deltas, const torch::Tensor& target_class_ids,
                              const torch::Tensor& pred_deltas);
// target_masks [R, h, w], target_class_ids [R], pred_masks [R, classes, h, w] (probabilities).
torch::Tensor mrcnn_mask_loss(const torch::Tensor& target_masks, const torch::Tensor& target_class_ids,
                              const torch::Tensor& pred_masks);

}  // namespace sdn::models::maskrcnn

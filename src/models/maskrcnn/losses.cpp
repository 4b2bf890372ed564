// Implements the five losses (see losses.hpp).
#include "models/maskrcnn/losses.hpp"

namespace sdn::models::maskrcnn {
namespace {

torch::Tensor zero_like(const torch::Tensor& t) { return torch::zeros({}, t.options()); }

}  // namespace

const std::array<std::string, 5>& MaskRcnnLosses::names() {
  static const std::array<std::string, 5> n = {"rpn_class", "rpn_bbox", "mrcnn_class", "mrcnn_bbox", "mrcnn_mask"};
  return n;
}

torch::Tensor rpn_class_loss(const torch::Tensor& match, const torch::Tensor& logits) {
  auto ix = (match != 0).nonzero().select(1, 0).to(logits.device());
  if (ix.size(0) == 0) return zero_like(logits);
  auto target = (match.to(logits.device()).index_select(0, ix) == 1).to(torch::kLong);
  return torch::nn::functional::cross_entropy(logits.index_select(0, ix), target);
}

torch::Tensor rpn_bbox_loss(const torch::Tensor& target, const torch::Tensor& match, const torch::Tensor& deltas) {
  auto ix = (match == 1).nonzero().select(1, 0).to(deltas.device());
  if (ix.size(0) == 0) return zero_like(deltas);
  auto pred = deltas.index_select(0, ix);
  return torch::smooth_l1_loss(pred, target.to(deltas.device()).slice(0, 0, pred.size(0)));
}

torch::Tensor mrcnn_class_loss(const torch::Tensor& target_class_ids, const torch::Tensor& logits) {
  if (target_class_ids.size(0) == 0) return zero_like(logits);
  return torch::nn::functional::cross_entropy(logits, target_class_ids.to(logits.device(), torch::kLong));
}

torch::Tensor mrcnn_bbox_loss(const torch::Tensor& target, const torch::Tensor& ids, const torch::Tensor& pred) {
  if (ids.size(0) == 0) return zero_like(pred);
  auto cls = ids.to(pred.device(), torch::kLong);
  auto pos = (cls > 0).nonzero().select(1, 0);
  if (pos.size(0) == 0) return zero_like(pred);
  auto p = pred.index({pos, cls.index_select(0, pos)});  // [P, 4]
  return torch::smooth_l1_loss(p, target.to(pred.device()).index_select(0, pos));
}

torch::Tensor mrcnn_mask_loss(const torch::Tensor& target, const torch::Tensor& ids, const torch::Tensor& pred) {
  if (ids.size(0) == 0) return zero_like(pred);
  auto cls = ids.to(pred.device(), torch::kLong);
  auto pos = (cls > 0).nonzero().select(1, 0);
  if (pos.size(0) == 0) return zero_like(pred);
  auto p = pred.index({pos, cls.index_select(0, pos)});  // [P, h, w]
  return torch::binary_cross_entropy(p, target.to(pred.device()).index_select(0, pos));
}

}  // namespace sdn::models::maskrcnn

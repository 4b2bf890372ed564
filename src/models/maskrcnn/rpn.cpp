// Implements the RPN head and the proposal layer (see rpn.hpp).
#include "models/maskrcnn/rpn.hpp"

#include "models/maskrcnn/boxes.hpp"
#include "models/maskrcnn/nms.hpp"
#include "models/maskrcnn/resnet.hpp"

namespace sdn::models::maskrcnn {

RpnImpl::RpnImpl(int64_t anchors, int64_t stride, int64_t depth) : anchor_stride(stride) {
  conv_shared =
      register_module("conv_shared", torch::nn::Conv2d(torch::nn::Conv2dOptions(depth, 512, 3).stride(stride)));
  conv_class = register_module("conv_class", torch::nn::Conv2d(torch::nn::Conv2dOptions(512, 2 * anchors, 1)));
  conv_bbox = register_module("conv_bbox", torch::nn::Conv2d(torch::nn::Conv2dOptions(512, 4 * anchors, 1)));
}

RpnOutput RpnImpl::forward(const torch::Tensor& feature) {
  auto x = conv_shared(same_pad2d(feature, 3, anchor_stride)).relu();
  const int64_t b = x.size(0);
  RpnOutput out;
  out.logits = conv_class(x).permute({0, 2, 3, 1}).contiguous().view({b, -1, 2});
  out.probs = out.logits.softmax(2);
  out.deltas = conv_bbox(x).permute({0, 2, 3, 1}).contiguous().view({b, -1, 4});
  return out;
}

RpnOutput rpn_over_levels(Rpn& rpn, const std::vector<torch::Tensor>& levels) {
  std::vector<torch::Tensor> logits, probs, deltas;
  for (const auto& p : levels) {
    auto o = rpn->forward(p);
    logits.push_back(o.logits);
    probs.push_back(o.probs);
    deltas.push_back(o.deltas);
  }
  return {torch::cat(logits, 1), torch::cat(probs, 1), torch::cat(deltas, 1)};
}

torch::Tensor proposal_layer(const torch::Tensor& fg_probs, const torch::Tensor& deltas, const torch::Tensor& anchors,
                             int64_t proposal_count, const MaskRcnnOptions& o) {
  torch::NoGradGuard no_grad;
  auto scores = fg_probs.detach();
  auto d = deltas.detach() * row4(o.rpn_bbox_std_dev, deltas);
  const int64_t limit = std::min(o.pre_nms_limit, anchors.size(0));
  auto sorted = scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  auto top_scores = std::get<0>(sorted).slice(0, 0, limit);
  auto order = std::get<1>(sorted).slice(0, 0, limit);
  auto boxes = apply_box_deltas(anchors.to(d.device()).index_select(0, order), d.index_select(0, order));
  // The whole padded square, not the image window (as the original).
  const double s = static_cast<double>(o.image_size());
  boxes = clip_boxes(boxes, {0.0, 0.0, s, s});
  auto keep = nms(boxes, top_scores, o.rpn_nms_threshold).slice(0, 0, proposal_count);
  return boxes.index_select(0, keep) / s;
}

}  // namespace sdn::models::maskrcnn

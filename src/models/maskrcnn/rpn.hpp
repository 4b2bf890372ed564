// The region proposal network of the original (model.py RPN, proposal_layer): one head shared by P2..P6
// (SAME 3x3 conv 256 -> 512 + ReLU, 1x1 convs to 2A logits and 4A deltas, flattened NHWC so that anchor
// (y * W + x) * A + a lines up with generate_pyramid_anchors), and the proposal layer that turns scores and
// deltas into normalised RoIs: top pre_nms_limit by fg score, deltas * RPN_BBOX_STD_DEV, clip to the padded
// image, NMS, keep the first post-NMS count.
#pragma once

#include <torch/torch.h>

#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

struct RpnOutput {
  torch::Tensor logits;  // [B, anchors, 2]
  torch::Tensor probs;   // [B, anchors, 2], softmax of the logits
  torch::Tensor deltas;  // [B, anchors, 4]
};

class RpnImpl : public torch::nn::Module {
 public:
  RpnImpl(int64_t anchors_per_location, int64_t anchor_stride, int64_t depth);
  // One pyramid level [B, depth, H, W].
  RpnOutput forward(const torch::Tensor& feature);

  int64_t anchor_stride;
  torch::nn::Conv2d conv_shared{nullptr}, conv_class{nullptr}, conv_bbox{nullptr};
};
TORCH_MODULE(Rpn);

// Runs the head on every level and concatenates them (P2 first) along the anchor axis.
RpnOutput rpn_over_levels(Rpn& rpn, const std::vector<torch::Tensor>& levels);

// One image: fg_probs [A], deltas [A, 4], anchors [A, 4] (pixels) -> proposals [K, 4] normalised to [0, 1],
// K <= proposal_count, in NMS order (descending score). No gradient.
torch::Tensor proposal_layer(const torch::Tensor& fg_probs, const torch::Tensor& deltas, const torch::Tensor& anchors,
                             int64_t proposal_count, const MaskRcnnOptions& options);

}  // namespace sdn::models::maskrcnn

// The Caffe-style ResNet of the original Mask R-CNN (model.py Bottleneck/ResNet): the stride sits on a block's
// 1x1 conv1, every conv has a bias, 3x3 convs use TF "SAME" padding, BN eps 1e-3 and frozen. The stages C1..C5
// are separate Sequentials because the FPN owns them under the names fpn.C1 ... fpn.C5.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/maskrcnn/frozen_batchnorm.hpp"

namespace sdn::models::maskrcnn {

// TF "SAME" zero padding for a k x k kernel with stride s (SamePad2d). Like the original, the amount computed
// from the height pads the width and vice versa: identical for the square inputs the model is built for.
torch::Tensor same_pad2d(const torch::Tensor& x, int64_t kernel, int64_t stride);

class CaffeBottleneckImpl : public torch::nn::Module {
 public:
  CaffeBottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, bool downsample);
  torch::Tensor forward(const torch::Tensor& x);

  static constexpr int64_t kExpansion = 4;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // conv 1x1 (stride) + BN when the shape changes
};
TORCH_MODULE(CaffeBottleneck);

// C1: conv 7x7/2 pad 3, BN, ReLU, SAME pad (3, 2), max-pool 3/2; parameters at indices 0 (conv) and 1 (BN).
torch::nn::Sequential make_resnet_stem();
// C2..C5 (stage = 2..5): `blocks` bottlenecks of width 64 * 2^(stage-2); stride 2 except C2.
torch::nn::Sequential make_resnet_stage(int stage, int64_t blocks);

}  // namespace sdn::models::maskrcnn

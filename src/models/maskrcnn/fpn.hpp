// The feature pyramid of the original (model.py FPN): it owns the ResNet stages C1..C5 (so their weights are
// fpn.C1 ... fpn.C5), 1x1 lateral convs, nearest x2 top-down additions, a SAME 3x3 conv per level, and
// P6 = max-pool(k 1, s 2) of P5. 256 channels at every level.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sdn::models::maskrcnn {

class FpnImpl : public torch::nn::Module {
 public:
  explicit FpnImpl(const std::vector<int64_t>& resnet_layers, int64_t out_channels = 256);
  // images [B, 3, S, S] (S a multiple of 64) -> {P2, P3, P4, P5, P6}, P_k of size S / 2^k.
  std::vector<torch::Tensor> forward(const torch::Tensor& images);

  torch::nn::Sequential C1{nullptr}, C2{nullptr}, C3{nullptr}, C4{nullptr}, C5{nullptr};
  torch::nn::Conv2d P5_conv1{nullptr}, P4_conv1{nullptr}, P3_conv1{nullptr}, P2_conv1{nullptr};
  // Sequential(SamePad2d, conv) in the original: the conv is entry 1 (fpn.P5_conv2.1.weight).
  torch::nn::Sequential P5_conv2{nullptr}, P4_conv2{nullptr}, P3_conv2{nullptr}, P2_conv2{nullptr};
};
TORCH_MODULE(Fpn);

}  // namespace sdn::models::maskrcnn

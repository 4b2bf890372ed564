// Encoder `resnet50_dilated8` of the original semantic branch: the CSAIL deep-stem ResNet-50 (three 3x3 stem
// convs, inplanes 128) whose layer3/layer4 strides are replaced by dilation as the original _nostride_dilate
// does, giving output stride 8. Module names match the original state_dict (conv1, bn1, ..., layer3.0.conv2).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/sync_batchnorm.hpp"

namespace sdn::models {

struct BottleneckOptions {
  BottleneckOptions(int64_t inplanes, int64_t planes) : inplanes_(inplanes), planes_(planes) {}
  TORCH_ARG(int64_t, inplanes);
  TORCH_ARG(int64_t, planes);  // width of the 1x1/3x3 convs; the block outputs 4 * planes
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation) = 1;     // of the 3x3 conv (padding = dilation)
  TORCH_ARG(bool, downsample) = false;  // 1x1 conv + BN on the shortcut
};

class BottleneckImpl : public torch::nn::Module {
 public:
  explicit BottleneckImpl(const BottleneckOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  static constexpr int64_t kExpansion = 4;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  SyncBatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

struct ResnetDilatedOptions {
  TORCH_ARG(std::vector<int64_t>, layers) = std::vector<int64_t>{3, 4, 6, 3};  // ResNet-50
  TORCH_ARG(int64_t, dilate_scale) = 8;  // 8 (layer3 and layer4 dilated) or 16 (layer4 only)
};

// Dilation of the 3x3 conv of block `block` in layer `layer` (1-based), as _nostride_dilate leaves it:
// the block that had stride 2 gets dilate/2, the others dilate.
int64_t resnet_block_dilation(int64_t dilate_scale, int layer, int64_t block);

class ResnetDilatedImpl : public torch::nn::Module {
 public:
  explicit ResnetDilatedImpl(const ResnetDilatedOptions& options = {});
  // Outputs of layer1..layer4 (strides 4, 8, 8, 8 for dilate_scale 8); the decoder uses the last two.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  // The original ResNet init: convs He fan-out, BN weight 1 / bias 0.
  void init_weights(at::Generator& gen);

  ResnetDilatedOptions options;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  SyncBatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResnetDilated);

}  // namespace sdn::models

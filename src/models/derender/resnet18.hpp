// torchvision's ResNet-18, the derenderer's backbone: module names exactly as torchvision.models.resnet18
// (conv1, bn1, layer1..layer4 of BasicBlocks with conv1/bn1/conv2/bn2/downsample.{0,1}, fc), so an ImageNet
// checkpoint maps onto it by name; the derenderer replaces fc with 512 -> 256. BatchNorm is SyncBatchNorm2d
// (plain BatchNorm2d until a CrossRankSum is installed), whose state_dict is torch.nn.BatchNorm2d's.
#pragma once

#include <torch/torch.h>

#include "models/sync_batchnorm.hpp"

namespace sdn::models::derender {

struct BasicBlockOptions {
  BasicBlockOptions(int64_t inplanes, int64_t planes) : inplanes_(inplanes), planes_(planes) {}
  TORCH_ARG(int64_t, inplanes);
  TORCH_ARG(int64_t, planes);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(bool, downsample) = false;  // 1x1 conv (stride) + BN on the shortcut
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  explicit BasicBlockImpl(const BasicBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  SyncBatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

struct Resnet18Options {
  TORCH_ARG(int64_t, fc_out) = 256;  // the derenderer's fc (torchvision's classifier has 1000)
};

class Resnet18Impl : public torch::nn::Module {
 public:
  explicit Resnet18Impl(const Resnet18Options& options = {});
  // [N, 3, H, W] -> [N, fc_out] (global average pool, then fc; no ReLU).
  torch::Tensor forward(const torch::Tensor& x);
  // torchvision's init: convs He fan-out normal, BN weight 1 / bias 0, fc torch.nn.Linear's default.
  void init_weights(at::Generator& gen);

  torch::nn::Conv2d conv1{nullptr};
  SyncBatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Resnet18);

// torch.nn.Linear's default init with a seeded generator: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
void linear_default_init(torch::nn::LinearImpl& linear, at::Generator& gen);

}  // namespace sdn::models::derender

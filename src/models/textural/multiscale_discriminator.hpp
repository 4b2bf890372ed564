// pix2pixHD's MultiscaleDiscriminator with getIntermFeat (netD of the textural branch): num_D PatchGAN
// discriminators (conv 4x4 stride 2 x n_layers, one stride-1 conv, a 1-channel conv; LeakyReLU 0.2,
// InstanceNorm with running statistics), the input down-sampled by AvgPool(3, 2, pad 1, no padded counts)
// between scales. Names as the original: scale{i}_layer{j}.{k}.*; the full-resolution input goes to the
// highest-numbered scale, as the original's forward does.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sdn::models::textural {

// Per scale (full resolution first), the output of every layer; the last one is the patch prediction.
using DFeatures = std::vector<std::vector<torch::Tensor>>;

struct MultiscaleDiscriminatorOptions {
  TORCH_ARG(int64_t, input_nc) = 18;  // 14 labels + edge + 3 image channels
  TORCH_ARG(int64_t, ndf) = 64;
  TORCH_ARG(int64_t, n_layers) = 3;
  TORCH_ARG(int64_t, num_D) = 2;
  TORCH_ARG(std::uint64_t, seed) = 2;
};

class MultiscaleDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit MultiscaleDiscriminatorImpl(const MultiscaleDiscriminatorOptions& options = {});
  DFeatures forward(const torch::Tensor& input);

  MultiscaleDiscriminatorOptions options;
  std::vector<std::vector<torch::nn::Sequential>> layers;  // [scale][layer], as registered
  torch::nn::AvgPool2d downsample{nullptr};
};
TORCH_MODULE(MultiscaleDiscriminator);

}  // namespace sdn::models::textural

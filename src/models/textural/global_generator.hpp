// pix2pixHD's GlobalGenerator (netG of the textural branch) and its ResnetBlock: ReflectionPad(3) + conv 7x7,
// n_downsampling x (conv 3x3 stride 2, channels x2), n_blocks residual blocks, n_downsampling x ConvTranspose
// 3x3 stride 2, ReflectionPad(3) + conv 7x7 + tanh; InstanceNorm with running statistics, reflect padding.
// state_dict names as the original: model.N.* (model.K.conv_block.M.* inside the residual blocks).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace sdn::models::textural {

class ResnetBlockImpl : public torch::nn::Module {
 public:
  explicit ResnetBlockImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Sequential conv_block{nullptr};
};
TORCH_MODULE(ResnetBlock);

// The down/residual/up stack netG and netE share (the Encoder is the same layout with no residual blocks).
torch::nn::Sequential make_down_up(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t n_downsampling,
                                   int64_t n_blocks);

struct GlobalGeneratorOptions {
  TORCH_ARG(int64_t, input_nc) = 48;  // 14 labels + edge + 5 features + 25 pose bins + 3 normals
  TORCH_ARG(int64_t, output_nc) = 3;
  TORCH_ARG(int64_t, ngf) = 64;
  TORCH_ARG(int64_t, n_downsampling) = 4;
  TORCH_ARG(int64_t, n_blocks) = 9;
  TORCH_ARG(std::uint64_t, seed) = 1;
};

class GlobalGeneratorImpl : public torch::nn::Module {
 public:
  explicit GlobalGeneratorImpl(const GlobalGeneratorOptions& options = {});
  torch::Tensor forward(const torch::Tensor& input);

  GlobalGeneratorOptions options;
  torch::nn::Sequential model{nullptr};
};
TORCH_MODULE(GlobalGenerator);

}  // namespace sdn::models::textural

// Implements the multi-scale PatchGAN discriminator (see multiscale_discriminator.hpp).
#include "models/textural/multiscale_discriminator.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "models/textural/pix2pixhd_init.hpp"

namespace sdn::models::textural {
namespace {

namespace nn = torch::nn;

// padw = ceil((kw - 1) / 2) = 2 for the 4x4 kernels.
nn::Conv2d conv4(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(stride).padding(2));
}
nn::LeakyReLU lrelu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)); }

// NLayerDiscriminator's `sequence`, one Sequential per entry (model0 ... model{n_layers+1}).
std::vector<nn::Sequential> patch_gan(int64_t input_nc, int64_t ndf, int64_t n_layers) {
  std::vector<nn::Sequential> seq;
  seq.push_back(nn::Sequential(conv4(input_nc, ndf, 2), lrelu()));
  int64_t nf = ndf;
  for (int64_t n = 1; n < n_layers; ++n) {
    const int64_t prev = nf;
    nf = std::min<int64_t>(nf * 2, 512);
    seq.push_back(nn::Sequential(conv4(prev, nf, 2), instance_norm(nf), lrelu()));
  }
  const int64_t prev = nf;
  nf = std::min<int64_t>(nf * 2, 512);
  seq.push_back(nn::Sequential(conv4(prev, nf, 1), instance_norm(nf), lrelu()));
  seq.push_back(nn::Sequential(conv4(nf, 1, 1)));
  return seq;
}

}  // namespace

MultiscaleDiscriminatorImpl::MultiscaleDiscriminatorImpl(const MultiscaleDiscriminatorOptions& o) : options(o) {
  if (o.input_nc() < 1 || o.ndf() < 1 || o.n_layers() < 1 || o.num_D() < 1)
    throw Error("MultiscaleDiscriminator: input_nc, ndf, n_layers and num_D must be positive");
  for (int64_t i = 0; i < o.num_D(); ++i) {
    auto scale = patch_gan(o.input_nc(), o.ndf(), o.n_layers());
    for (size_t j = 0; j < scale.size(); ++j)
      scale[j] = register_module("scale" + std::to_string(i) + "_layer" + std::to_string(j), scale[j]);
    layers.push_back(std::move(scale));
  }
  downsample = register_module(
      "downsample", nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false)));
  pix2pixhd_init(*this, o.seed());
}

DFeatures MultiscaleDiscriminatorImpl::forward(const torch::Tensor& input) {
  const int64_t num_d = options.num_D();
  DFeatures result;
  auto x = input;
  for (int64_t i = 0; i < num_d; ++i) {
    std::vector<torch::Tensor> feats;
    auto h = x;
    for (auto& layer : layers[static_cast<size_t>(num_d - 1 - i)]) {
      h = layer->forward(h);
      feats.push_back(h);
    }
    result.push_back(std::move(feats));
    if (i != num_d - 1) x = downsample(x);
  }
  return result;
}

}  // namespace sdn::models::textural

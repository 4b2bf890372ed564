// Implements the PPM decoder with deep supervision (see ppm_deepsup.hpp).
#include "models/ppm_deepsup.hpp"

#include "models/init.hpp"

namespace sdn::models {
namespace {

namespace F = torch::nn::functional;

torch::Tensor resize_bilinear(const torch::Tensor& x, std::vector<int64_t> size) {
  // align_corners=false: what PyTorch 0.4's `upsample(mode='bilinear')` did by default in the original.
  return F::interpolate(x, F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false));
}

}  // namespace

PpmDeepsupImpl::PpmDeepsupImpl(const PpmDeepsupOptions& options_) : options(options_) {
  const int64_t fc = options.fc_dim();
  const int64_t width = 512;  // the original's fixed PPM and head width
  // Registration order = the original's (ppm, cbr_deepsup, conv_last, conv_last_deepsup, dropout_deepsup).
  ppm = register_module("ppm", torch::nn::ModuleList());
  for (int64_t scale : options.pool_scales()) {
    torch::nn::Sequential branch(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(scale)),
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(fc, width, 1).bias(false)),
                                 original_sync_bn(width), torch::nn::ReLU(torch::nn::ReLUOptions(/*inplace=*/true)));
    ppm->push_back(branch);
    branches_.push_back(branch);
  }
  cbr_deepsup = register_module(
      "cbr_deepsup",
      torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(fc / 2, fc / 4, 3).padding(1).bias(false)),
                            original_sync_bn(fc / 4), torch::nn::ReLU(torch::nn::ReLUOptions(true))));
  const int64_t cat_channels = fc + static_cast<int64_t>(options.pool_scales().size()) * width;
  conv_last = register_module(
      "conv_last",
      torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(cat_channels, width, 3).padding(1).bias(false)),
                            original_sync_bn(width), torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                            torch::nn::Dropout2d(torch::nn::Dropout2dOptions(options.dropout())),
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(width, options.num_classes(), 1))));
  conv_last_deepsup = register_module("conv_last_deepsup",
                                      torch::nn::Conv2d(torch::nn::Conv2dOptions(fc / 4, options.num_classes(), 1)));
  dropout_deepsup =
      register_module("dropout_deepsup", torch::nn::Dropout2d(torch::nn::Dropout2dOptions(options.dropout())));
}

torch::Tensor PpmDeepsupImpl::logits(const torch::Tensor& conv5) {
  const std::vector<int64_t> size{conv5.size(2), conv5.size(3)};
  std::vector<torch::Tensor> pyramid{conv5};
  for (auto& branch : branches_) pyramid.push_back(resize_bilinear(branch->forward(conv5), size));
  return conv_last->forward(torch::cat(pyramid, 1));
}

torch::Tensor PpmDeepsupImpl::deepsup_logits(const torch::Tensor& conv4) {
  return conv_last_deepsup(dropout_deepsup(cbr_deepsup->forward(conv4)));
}

void PpmDeepsupImpl::init_weights(at::Generator& gen) {
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) init::torch_default(*conv, gen);
    if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(m.get())) bn->reset_parameters();
  }
}

}  // namespace sdn::models

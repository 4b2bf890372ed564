// Implements FrozenBatchNorm2d and the tracked InstanceNorm2d (see norm.hpp).
#include "models/norm.hpp"

#include <sstream>

#include "core/error.hpp"

namespace sdn::models {

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(const FrozenBatchNorm2dOptions& options_) : options(options_) {
  reset();
}

void FrozenBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  weight = register_parameter("weight", torch::ones({c}), /*requires_grad=*/false);
  bias = register_parameter("bias", torch::zeros({c}), /*requires_grad=*/false);
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

void FrozenBatchNorm2dImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight.fill_(1);
  bias.zero_();
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (input.dim() != 4 || input.size(1) != options.num_features()) {
    std::ostringstream shape;
    shape << input.sizes();
    throw Error("FrozenBatchNorm2d: expected an N x " + std::to_string(options.num_features()) +
                " x H x W input, got " + shape.str());
  }
  return torch::batch_norm(input, weight.detach(), bias.detach(), running_mean, running_var, /*training=*/false,
                           /*momentum=*/0.0, options.eps(), /*cudnn_enabled=*/true);
}

void FrozenBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "sdn::models::FrozenBatchNorm2d(" << options.num_features() << ", eps=" << options.eps() << ")";
}

torch::nn::InstanceNorm2d instance_norm_tracked(int64_t num_features, bool affine, double eps) {
  return torch::nn::InstanceNorm2d(
      torch::nn::InstanceNorm2dOptions(num_features).affine(affine).track_running_stats(true).eps(eps));
}

}  // namespace sdn::models

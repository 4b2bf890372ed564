// Implements FrozenBatchNorm2d (see frozen_batchnorm.hpp).
#include "models/maskrcnn/frozen_batchnorm.hpp"

namespace sdn::models::maskrcnn {

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t num_features_, double eps_)
    : num_features(num_features_), eps(eps_) {
  reset();
}

void FrozenBatchNorm2dImpl::reset() {
  weight = register_parameter("weight", torch::ones({num_features}), /*requires_grad=*/false);
  bias = register_parameter("bias", torch::zeros({num_features}), /*requires_grad=*/false);
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
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
  // Eval-mode batch_norm: running statistics, no update, whatever the module's train() flag says.
  return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/false,
                           /*momentum=*/0.0, eps, /*cudnn_enabled=*/true);
}

void FrozenBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "FrozenBatchNorm2d(" << num_features << ", eps=" << eps << ")";
}

}  // namespace sdn::models::maskrcnn

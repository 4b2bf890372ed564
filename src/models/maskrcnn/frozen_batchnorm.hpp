// FrozenBatchNorm2d: BatchNorm2d with affine parameters and statistics fixed (Mask R-CNN's set_bn_fix plus
// set_bn_eval: every BN always normalises with its running statistics, which never change). Its state_dict is
// torch.nn.BatchNorm2d's (weight, bias, running_mean, running_var, num_batches_tracked); weight and bias are
// parameters with requires_grad = false, so they count in parameters() as in the original.
// TODO(lead): unify with the models/ FrozenBatchNorm2d of issue 9 once it lands; this one is local to maskrcnn/.
#pragma once

#include <torch/torch.h>

namespace sdn::models::maskrcnn {

class FrozenBatchNorm2dImpl : public torch::nn::Cloneable<FrozenBatchNorm2dImpl> {
 public:
  explicit FrozenBatchNorm2dImpl(int64_t num_features, double eps = 1e-3);
  void reset() override;
  // weight 1, bias 0, mean 0, var 1 (the original's initialize_weights).
  void reset_parameters();
  // Differentiable w.r.t. the input only.
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  int64_t num_features;
  double eps;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(FrozenBatchNorm2d);

}  // namespace sdn::models::maskrcnn

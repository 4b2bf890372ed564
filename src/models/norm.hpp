// Normalisation layers of the branches after the semantic one, with PyTorch's state_dict names:
// FrozenBatchNorm2d (Mask R-CNN's Caffe-style BatchNorm: eps 1e-3, affine and statistics fixed) and
// InstanceNorm2d with tracked running statistics (pix2pixHD), which is LibTorch's own module configured so.
#pragma once

#include <torch/torch.h>

namespace sdn::models {

struct FrozenBatchNorm2dOptions {
  /* implicit */ FrozenBatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(double, eps) = 1e-3;  // the original Mask R-CNN's BatchNorm2d(eps=0.001)
};

// y = (x - running_mean) / sqrt(running_var + eps) * weight + bias in train and eval mode alike: the
// original builds nn.BatchNorm2d, sets requires_grad=False on its weight and bias and puts it in eval() on
// every training call. So weight and bias are parameters without gradient (state_dict names and
// parameter counts as the original's: weight, bias, running_mean, running_var, num_batches_tracked) and
// nothing here ever changes; forward uses them detached, so even a layer unfrozen by mistake stays fixed.
class FrozenBatchNorm2dImpl : public torch::nn::Cloneable<FrozenBatchNorm2dImpl> {
 public:
  explicit FrozenBatchNorm2dImpl(const FrozenBatchNorm2dOptions& options);
  void reset() override;
  // weight 1, bias 0, mean 0, var 1 in place (the original Mask R-CNN's initialize_weights).
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  FrozenBatchNorm2dOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(FrozenBatchNorm2d);

// torch.nn.InstanceNorm2d(num_features, affine=affine, track_running_stats=True): state_dict
// [weight, bias,] running_mean, running_var, num_batches_tracked; training normalises each sample with its
// own statistics and updates the running ones (momentum 0.1, unbiased variance), eval uses the running ones.
// Like Python's, it never increments num_batches_tracked.
torch::nn::InstanceNorm2d instance_norm_tracked(int64_t num_features, bool affine = false, double eps = 1e-5);

}  // namespace sdn::models

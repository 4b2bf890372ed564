// SyncBatchNorm2d: BatchNorm2d whose training statistics cover the global batch of all ranks. Two kinds of
// running statistics, each with its original's state_dict names: torch.nn.BatchNorm2d's (EMA, momentum 0.1;
// DRN) and the original 3D-SDN SynchronizedBatchNorm2d's (a bias-corrected cumulative average, momentum 0.001,
// with its _tmp_running_mean/_tmp_running_var/_running_iter buffers; the ResNet-PPM model). Ranks exchange
// sums through an injected CrossRankSum, so this layer knows nothing about MPI or NCCL (dist/ supplies one).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

namespace sdn::models {

// In-place sum of `t` over all ranks. Contract for the implementer (dist/):
// - every rank calls it the same number of times in the same order: forward once per SyncBatchNorm2d in layer
//   order, backward once per layer in reverse order; use a communicator of its own so these calls never
//   interleave with gradient all-reduces running on another thread or stream;
// - forward tensors are float64 [2C+1], backward tensors have the statistics dtype (float32 for float32
//   activations) [2C]; both live on the activation's device;
// - an empty CrossRankSum means a single process.
using CrossRankSum = std::function<void(torch::Tensor&)>;

enum class BnStatistics {
  // torch.nn.BatchNorm2d: running = (1 - m) running + m batch (m = 0.1, unbiased variance),
  // num_batches_tracked counts steps, training normalises with 1/sqrt(var + eps).
  kTorch,
  // The original SynchronizedBatchNorm2d (3D-SDN semantic/lib/nn/modules/batchnorm.py), f = 1 - m = 0.999:
  //   _tmp_running_mean = f _tmp_running_mean + mean,  _tmp_running_var = f _tmp_running_var + unbiased var,
  //   _running_iter = f _running_iter + 1,  running_mean/var = _tmp_running_mean/var / _running_iter,
  // training normalises with 1/sqrt(max(biased var, eps)); num_batches_tracked stays 0 (its forward never
  // reaches torch's counter). Eval, in both kinds: 1/sqrt(running_var + eps).
  kOriginal,
};

struct SyncBatchNorm2dOptions {
  /* implicit */ SyncBatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(double, eps) = 1e-5;
  TORCH_ARG(BnStatistics, statistics) = BnStatistics::kTorch;
  // Weight of the newest batch; unset = the kind's own default (0.1 kTorch, 0.001 kOriginal).
  TORCH_ARG(c10::optional<double>, momentum) = c10::nullopt;

 public:  // TORCH_ARG leaves the section private
  double momentum_value() const;
};

class SyncBatchNorm2dImpl : public torch::nn::Cloneable<SyncBatchNorm2dImpl> {
 public:
  explicit SyncBatchNorm2dImpl(const SyncBatchNorm2dOptions& options);

  void reset() override;
  // weight = 1, bias = 0, running statistics and bookkeeping at their initial values (mean 0, var 1, iter 1).
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void pretty_print(std::ostream& stream) const override;

  void set_cross_rank_sum(CrossRankSum sum) { cross_rank_sum_ = std::move(sum); }
  bool has_cross_rank_sum() const { return static_cast<bool>(cross_rank_sum_); }
  // Qualified name ("decoder.ppm.0.2") used in error messages; see label_sync_batchnorms().
  void set_label(std::string label) { label_ = std::move(label); }
  const std::string& label() const { return label_; }

  SyncBatchNorm2dOptions options;
  torch::Tensor weight;
  torch::Tensor bias;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;
  // kOriginal only (undefined for kTorch): the state_dict's _tmp_running_mean, _tmp_running_var, _running_iter.
  torch::Tensor tmp_running_mean;
  torch::Tensor tmp_running_var;
  torch::Tensor running_iter;

 private:
  torch::Tensor forward_train(const torch::Tensor& input);
  [[noreturn]] void throw_single_value(const torch::Tensor& input) const;

  CrossRankSum cross_rank_sum_;
  std::string label_ = "SyncBatchNorm2d";
};
TORCH_MODULE(SyncBatchNorm2d);

// A layer with the original 3D-SDN SynchronizedBatchNorm2d's statistics and buffers.
inline SyncBatchNorm2d original_sync_bn(int64_t num_features) {
  return SyncBatchNorm2d(SyncBatchNorm2dOptions(num_features).statistics(BnStatistics::kOriginal));
}

// Installs `sum` on every SyncBatchNorm2d under `root` (an empty one switches them back to single-process).
void set_cross_rank_sum(torch::nn::Module& root, const CrossRankSum& sum);

// Stores each SyncBatchNorm2d's qualified name under `root` (prefixed with `prefix`) for error messages.
void label_sync_batchnorms(torch::nn::Module& root, const std::string& prefix = "");

// Number of SyncBatchNorm2d layers under `root`.
int64_t count_sync_batchnorms(const torch::nn::Module& root);

}  // namespace sdn::models

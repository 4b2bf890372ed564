// SyncBatchNorm2d: BatchNorm2d whose training statistics cover the global batch of all ranks, as the original
// semantic branch's SynchronizedBatchNorm2d; its state_dict is exactly torch.nn.BatchNorm2d's. Ranks exchange
// sums through an injected CrossRankSum, so this layer knows nothing about MPI or NCCL (dist/ supplies one).
// Without a CrossRankSum it is plain BatchNorm2d.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

namespace sdn::models {

// In-place sum of `t` over all ranks. Contract for the implementer (dist/):
// - every rank calls it the same number of times in the same order: forward once per SyncBatchNorm2d in layer
//   order, backward once per layer in reverse order; use a communicator of its own so these calls never
//   interleave with gradient all-reduces running on another thread or stream;
// - forward tensors are float64 [2C+1], backward tensors have the activation dtype [2C]; both live on the
//   activation's device;
// - an empty CrossRankSum means a single process.
using CrossRankSum = std::function<void(torch::Tensor&)>;

struct SyncBatchNorm2dOptions {
  /* implicit */ SyncBatchNorm2dOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT
  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(double, eps) = 1e-5;
  // Weight of the newest batch in the running averages (torch's convention, not the original's 0.001).
  TORCH_ARG(double, momentum) = 0.1;
};

class SyncBatchNorm2dImpl : public torch::nn::Cloneable<SyncBatchNorm2dImpl> {
 public:
  explicit SyncBatchNorm2dImpl(const SyncBatchNorm2dOptions& options);

  void reset() override;
  // weight = 1, bias = 0, running stats and the batch counter cleared.
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

 private:
  torch::Tensor forward_synchronised(const torch::Tensor& input);
  [[noreturn]] void throw_single_value(const torch::Tensor& input) const;

  CrossRankSum cross_rank_sum_;
  std::string label_ = "SyncBatchNorm2d";
};
TORCH_MODULE(SyncBatchNorm2d);

// Installs `sum` on every SyncBatchNorm2d under `root` (an empty one switches them back to single-process).
void set_cross_rank_sum(torch::nn::Module& root, const CrossRankSum& sum);

// Stores each SyncBatchNorm2d's qualified name under `root` (prefixed with `prefix`) for error messages.
void label_sync_batchnorms(torch::nn::Module& root, const std::string& prefix = "");

// Number of SyncBatchNorm2d layers under `root`.
int64_t count_sync_batchnorms(const torch::nn::Module& root);

}  // namespace sdn::models

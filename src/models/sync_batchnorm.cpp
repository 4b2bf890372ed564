// Implements SyncBatchNorm2d (see sync_batchnorm.hpp). Training goes through one custom autograd function
// except for kTorch on a single rank (native batch_norm, fused forward and backward). Forward: local moments
// (batch_norm_stats on CUDA, batch_norm_update_stats on CPU), one cross-rank sum of (n*mean, n*E[x^2], n) in
// float64, the running-statistics update of the layer's kind, then one fused elementwise kernel. Backward: the native
// BatchNorm backward on one rank; across ranks the per-channel reductions, one cross-rank sum of
// (sum dy, sum dy*(x-mean)), then the elementwise input gradient (fused kernels on CUDA).
#include "models/sync_batchnorm.hpp"

#include <sstream>

#include "core/error.hpp"

namespace sdn::models {
namespace {

// Keeps the CrossRankSum alive inside the autograd graph until backward has run.
struct CrossRankSumHolder : torch::CustomClassHolder {
  explicit CrossRankSumHolder(CrossRankSum f) : fn(std::move(f)) {}
  CrossRankSum fn;
};

// What forward needs besides the differentiable inputs; lives on the caller's stack during apply().
struct SyncStep {
  const CrossRankSum* sum;  // null: this process holds the whole batch
  SyncBatchNorm2dImpl* layer;
  std::function<void(const torch::Tensor&)> on_single_value;
};

torch::Tensor channel_view(const torch::Tensor& t) { return t.view({1, -1, 1, 1}); }

// Per-channel mean and biased variance of this rank's part of the batch.
std::pair<torch::Tensor, torch::Tensor> local_moments(const torch::Tensor& x, double eps) {
  if (x.is_cuda()) {
    auto [mean, invstd] = at::batch_norm_stats(x, eps);
    // torch.nn.SyncBatchNorm recovers the variance from invstd the same way.
    return {mean, invstd.pow(-2) - eps};
  }
  // The native BatchNorm statistics kernel (per-channel, vectorised), not var_mean: var_mean's reduction over
  // dims {0, 2, 3} took about 2.5x the time of the whole fused normalisation (profile in bench/RESULTS.md).
  auto [mean, var] = at::batch_norm_update_stats(x, /*running_mean=*/{}, /*running_var=*/{}, /*momentum=*/0.0);
  return {mean, var};
}

// The running-statistics update of the layer's kind, from the global mean, biased variance and count.
void update_running(SyncBatchNorm2dImpl& bn, const torch::Tensor& mean, const torch::Tensor& var,
                    const torch::Tensor& count) {
  const auto type = bn.running_mean.scalar_type();
  auto m = mean.to(type);
  auto unbiased = (var.to(torch::kFloat64) * (count / (count - 1.0))).to(type);
  const double mom = bn.options.momentum_value();
  if (bn.options.statistics() == BnStatistics::kTorch) {
    bn.running_mean.mul_(1.0 - mom).add_(m, mom);
    bn.running_var.mul_(1.0 - mom).add_(unbiased, mom);
    bn.num_batches_tracked.add_(1);
    return;
  }
  // The original's _add_weighted(dest, delta, alpha=1-m): dest * alpha + delta, in this order.
  const double keep = 1.0 - mom;
  bn.tmp_running_mean.mul_(keep).add_(m);
  bn.tmp_running_var.mul_(keep).add_(unbiased);
  bn.running_iter.mul_(keep).add_(1.0);
  bn.running_mean.copy_(bn.tmp_running_mean / bn.running_iter);
  bn.running_var.copy_(bn.tmp_running_var / bn.running_iter);
}

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                                const torch::Tensor& weight, const torch::Tensor& bias,
                                                const SyncStep* step) {
    SyncBatchNorm2dImpl& bn = *step->layer;
    const double eps = bn.options.eps();
    const bool torch_kind = bn.options.statistics() == BnStatistics::kTorch;
    const int64_t c = x.size(1);
    const int64_t local_n = x.numel() / c;
    const auto stat_type = x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    auto [mean, var] = local_moments(x, eps);
    mean = mean.to(stat_type);
    var = var.to(stat_type);
    torch::Tensor count;
    if (step->sum) {
      // The combination across ranks runs in float64 so E[x^2] - mean^2 does not cancel badly.
      const auto n = static_cast<double>(local_n);
      auto m = mean.to(torch::kFloat64);
      auto v = var.to(torch::kFloat64);
      auto packed = torch::cat({m * n, (v + m * m) * n, torch::full({1}, n, m.options())});
      (*step->sum)(packed);
      // Only a rank that holds a single value can be part of a global batch of one (sum of counts >= ranks),
      // so only there is the count read back to the host (one device sync, in this rare case only).
      if (local_n <= 1 && packed[2 * c].item<double>() <= 1.0) step->on_single_value(x);
      count = packed.slice(0, 2 * c, 2 * c + 1);
      auto g_mean = packed.slice(0, 0, c) / count;
      auto g_var = (packed.slice(0, c, 2 * c) / count - g_mean * g_mean).clamp_min(0.0);
      update_running(bn, g_mean, g_var, count);
      mean = g_mean.to(stat_type);
      var = g_var.to(stat_type);
    } else {
      count = torch::full({1}, static_cast<double>(local_n), mean.options().dtype(torch::kFloat64));
      update_running(bn, mean, var, count);
    }
    // The original normalises with 1/sqrt(max(var, eps)), torch with 1/sqrt(var + eps).
    auto norm_var = torch_kind ? var : var.clamp_min(eps);
    const double norm_eps = torch_kind ? eps : 0.0;
    auto invstd = (norm_var + norm_eps).rsqrt();
    torch::Tensor y;
    if (x.is_cuda()) {
      y = at::batch_norm_elemt(x, weight, bias, mean, invstd, norm_eps);
    } else {
      // Inference-mode batch_norm with these statistics is one fused kernel: (x - mean) * invstd * w + b.
      y = torch::batch_norm(x, weight, bias, mean.to(x.scalar_type()), norm_var.to(x.scalar_type()),
                            /*training=*/false, /*momentum=*/0.0, norm_eps, /*cudnn_enabled=*/false);
    }
    ctx->save_for_backward({x, weight, mean, invstd, count});
    ctx->saved_data["eps"] = eps;
    if (step->sum)
      ctx->saved_data["sum"] = c10::IValue::make_capsule(c10::make_intrusive<CrossRankSumHolder>(*step->sum));
    return {y};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const auto& count = saved[4];
    const auto dy = grads[0].contiguous();
    const int64_t c = x.size(1);
    if (!ctx->saved_data.count("sum")) {
      // One process holds the whole batch: the native kernel computes the full BatchNorm gradient (through
      // mean and variance) from the statistics forward used.
      auto [dx, dw, db] = at::native_batch_norm_backward(dy, x, weight, /*running_mean=*/{}, /*running_var=*/{},
                                                         mean, invstd, /*train=*/true,
                                                         ctx->saved_data["eps"].toDouble(), {true, true, true});
      return {dx, dw, db, torch::Tensor()};
    }
    auto holder = c10::static_intrusive_pointer_cast<CrossRankSumHolder>(ctx->saved_data["sum"].toCapsule());
    if (x.is_cuda()) {
      auto [sum_dy, sum_dy_xmu, grad_weight, grad_bias] =
          at::batch_norm_backward_reduce(dy, x, mean, invstd, weight, /*input_g=*/true, /*weight_g=*/true,
                                         /*bias_g=*/true);
      auto packed = torch::cat({sum_dy, sum_dy_xmu});
      holder->fn(packed);
      // The kernel divides the summed reductions by the total of `count` (one entry: the global count).
      auto dx = at::batch_norm_backward_elemt(dy, x, mean, invstd, weight, packed.slice(0, 0, c),
                                              packed.slice(0, c, 2 * c), count.to(torch::kInt));
      return {dx, grad_weight, grad_bias, torch::Tensor()};
    }
    auto xmu = x - channel_view(mean);
    auto sum_dy = dy.sum({0, 2, 3});
    auto sum_dy_xmu = (dy * xmu).sum({0, 2, 3});
    // Parameter gradients stay local: the gradient reducer averages them across ranks like any other.
    auto grad_weight = sum_dy_xmu * invstd;
    auto grad_bias = sum_dy;
    auto packed = torch::cat({sum_dy, sum_dy_xmu});
    holder->fn(packed);
    auto inv_count = count.reciprocal().to(x.scalar_type());
    auto mean_dy = packed.slice(0, 0, c) * inv_count;
    auto mean_dy_xmu = packed.slice(0, c, 2 * c) * inv_count;
    auto dx = (dy - channel_view(mean_dy) - xmu * channel_view(invstd * invstd * mean_dy_xmu)) *
              channel_view(weight * invstd);
    return {dx, grad_weight, grad_bias, torch::Tensor()};
  }
};

}  // namespace

double SyncBatchNorm2dOptions::momentum_value() const {
  if (momentum_) return *momentum_;
  return statistics_ == BnStatistics::kTorch ? 0.1 : 0.001;
}

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(const SyncBatchNorm2dOptions& options_) : options(options_) { reset(); }

void SyncBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  // Registration order = the original's state_dict order (torch's _BatchNorm first, then the subclass).
  weight = register_parameter("weight", torch::empty({c}));
  bias = register_parameter("bias", torch::empty({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  if (options.statistics() == BnStatistics::kOriginal) {
    tmp_running_mean = register_buffer("_tmp_running_mean", torch::zeros({c}));
    tmp_running_var = register_buffer("_tmp_running_var", torch::ones({c}));
    running_iter = register_buffer("_running_iter", torch::ones({1}));
  }
  reset_parameters();
}

void SyncBatchNorm2dImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.zero_();
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
  if (options.statistics() == BnStatistics::kOriginal) {
    // The original's __init__: _tmp_running_* = running_* * _running_iter with _running_iter = 1.
    tmp_running_mean.zero_();
    tmp_running_var.fill_(1.0);
    running_iter.fill_(1.0);
  }
}

void SyncBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "sdn::models::SyncBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum_value()
         << (options.statistics() == BnStatistics::kOriginal ? ", statistics=original" : "") << ")";
}

void SyncBatchNorm2dImpl::throw_single_value(const torch::Tensor& input) const {
  std::ostringstream shape;
  shape << input.sizes();
  throw UsageError(
      label_ + " (BatchNorm, " + std::to_string(options.num_features()) +
          " channels) is in training mode but sees only one value per channel (input " + shape.str() +
          ") across the whole batch: its variance is undefined",
      "use a per-rank batch of at least 2, or train on 2 or more ranks so SyncBatchNorm sums the statistics "
      "across ranks (the original trains 1 image per GPU on 2 GPUs); gradient accumulation does not help "
      "BatchNorm statistics");
}

torch::Tensor SyncBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (input.dim() != 4 || input.size(1) != options.num_features()) {
    std::ostringstream shape;
    shape << input.sizes();
    throw Error(label_ + ": expected an N x " + std::to_string(options.num_features()) + " x H x W input, got " +
                shape.str());
  }
  if (!is_training())
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/false,
                             options.momentum_value(), options.eps(), /*cudnn_enabled=*/true);
  return forward_train(input);
}

torch::Tensor SyncBatchNorm2dImpl::forward_train(const torch::Tensor& input) {
  if (!cross_rank_sum_ && input.numel() / options.num_features() <= 1) throw_single_value(input);
  if (!cross_rank_sum_ && options.statistics() == BnStatistics::kTorch) {
    {
      torch::NoGradGuard no_grad;
      num_batches_tracked.add_(1);
    }
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/true,
                             options.momentum_value(), options.eps(), /*cudnn_enabled=*/true);
  }
  SyncStep step{cross_rank_sum_ ? &cross_rank_sum_ : nullptr, this,
                [this](const torch::Tensor& x) { throw_single_value(x); }};
  return SyncBatchNormFunction::apply(input, weight, bias, &step)[0];
}

// The walks below skip `root` in modules()/named_modules() (that needs shared_from_this, unavailable while a
// model is still being constructed) and look at it separately.
void set_cross_rank_sum(torch::nn::Module& root, const CrossRankSum& sum) {
  if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(&root)) bn->set_cross_rank_sum(sum);
  for (auto& m : root.modules(/*include_self=*/false))
    if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(m.get())) bn->set_cross_rank_sum(sum);
}

void label_sync_batchnorms(torch::nn::Module& root, const std::string& prefix) {
  if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(&root)) bn->set_label(prefix.empty() ? "SyncBatchNorm2d" : prefix);
  for (auto& item : root.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(item.value().get()))
      bn->set_label(prefix.empty() ? item.key() : prefix + "." + item.key());
  }
}

int64_t count_sync_batchnorms(const torch::nn::Module& root) {
  int64_t n = dynamic_cast<const SyncBatchNorm2dImpl*>(&root) ? 1 : 0;
  for (const auto& m : root.modules(/*include_self=*/false))
    if (dynamic_cast<const SyncBatchNorm2dImpl*>(m.get())) ++n;
  return n;
}

}  // namespace sdn::models

// Implements SyncBatchNorm2d (see sync_batchnorm.hpp). Training with a CrossRankSum goes through a custom
// autograd function: forward sums (n*mean, n*E[x^2], n) over ranks in one call, backward sums (sum dy,
// sum dy*(x-mean)) in one call, so outputs and gradients equal BatchNorm over the concatenated global batch.
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
  const CrossRankSum* sum;
  double eps;
  double momentum;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;
  std::function<void(const torch::Tensor&)> on_single_value;
};

torch::Tensor channel_view(const torch::Tensor& t) { return t.view({1, -1, 1, 1}); }

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                                const torch::Tensor& weight, const torch::Tensor& bias,
                                                const SyncStep* step) {
    const int64_t c = x.size(1);
    const int64_t local_n = x.numel() / c;
    // Local moments are computed stably in the activation dtype; the combination across ranks runs in float64
    // so E[x^2] - mean^2 does not cancel badly.
    auto [var, mean] = torch::var_mean(x, torch::IntArrayRef{0, 2, 3}, /*unbiased=*/false);
    const auto n = static_cast<double>(local_n);
    auto m = mean.to(torch::kFloat64);
    auto v = var.to(torch::kFloat64);
    auto packed = torch::cat({m * n, (v + m * m) * n, torch::full({1}, n, m.options())});
    (*step->sum)(packed);
    // Only a rank that holds a single value can be part of a global batch of one (sum of counts >= ranks),
    // so only there is the count read back to the host (one device sync, in this rare case only).
    if (local_n <= 1 && packed[2 * c].item<double>() <= 1.0) step->on_single_value(x);

    auto count = packed.slice(0, 2 * c, 2 * c + 1);
    auto g_mean = packed.slice(0, 0, c) / count;
    auto g_var = (packed.slice(0, c, 2 * c) / count - g_mean * g_mean).clamp_min(0.0);
    auto g_invstd = (g_var + step->eps).rsqrt();
    {
      const double mom = step->momentum;
      auto unbiased = g_var * count / (count - 1.0);
      step->running_mean.mul_(1.0 - mom).add_(g_mean.to(step->running_mean.scalar_type()), mom);
      step->running_var.mul_(1.0 - mom).add_(unbiased.to(step->running_var.scalar_type()), mom);
      step->num_batches_tracked.add_(1);
    }
    const auto dtype = x.scalar_type();
    auto mean_x = g_mean.to(dtype);
    // Inference-mode batch_norm with the global statistics is one fused kernel: (x - mean) * invstd * w + b.
    auto y = torch::batch_norm(x, weight, bias, mean_x, g_var.to(dtype), /*training=*/false, /*momentum=*/0.0,
                               step->eps, /*cudnn_enabled=*/true);
    ctx->save_for_backward({x, weight, mean_x, g_invstd.to(dtype), count.reciprocal().to(dtype)});
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
    const auto& inv_count = saved[4];
    const auto& dy = grads[0];
    const int64_t c = x.size(1);

    auto xmu = x - channel_view(mean);
    auto sum_dy = dy.sum({0, 2, 3});
    auto sum_dy_xmu = (dy * xmu).sum({0, 2, 3});
    // Parameter gradients stay local: the gradient reducer averages them across ranks like any other.
    auto grad_weight = sum_dy_xmu * invstd;
    auto grad_bias = sum_dy;

    auto packed = torch::cat({sum_dy, sum_dy_xmu});
    auto holder = c10::static_intrusive_pointer_cast<CrossRankSumHolder>(ctx->saved_data["sum"].toCapsule());
    holder->fn(packed);
    auto mean_dy = packed.slice(0, 0, c) * inv_count;
    auto mean_dy_xmu = packed.slice(0, c, 2 * c) * inv_count;
    auto dx = (dy - channel_view(mean_dy) - xmu * channel_view(invstd * invstd * mean_dy_xmu)) *
              channel_view(weight * invstd);
    return {dx, grad_weight, grad_bias, torch::Tensor()};
  }
};

}  // namespace

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(const SyncBatchNorm2dOptions& options_) : options(options_) { reset(); }

void SyncBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  // Registration order = torch.nn.BatchNorm2d's state_dict order.
  weight = register_parameter("weight", torch::empty({c}));
  bias = register_parameter("bias", torch::empty({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  reset_parameters();
}

void SyncBatchNorm2dImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.zero_();
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void SyncBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "sdn::models::SyncBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum() << ")";
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
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/false, options.momentum(),
                             options.eps(), /*cudnn_enabled=*/true);
  if (cross_rank_sum_) return forward_synchronised(input);
  if (input.numel() / options.num_features() <= 1) throw_single_value(input);
  {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/true, options.momentum(),
                           options.eps(), /*cudnn_enabled=*/true);
}

torch::Tensor SyncBatchNorm2dImpl::forward_synchronised(const torch::Tensor& input) {
  SyncStep step{&cross_rank_sum_,
                options.eps(),
                options.momentum(),
                running_mean,
                running_var,
                num_batches_tracked,
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

// Implements the backend-independent part of GradientReducer: hooks, bucket state machine, pack/unpack.
// Invariants: buckets are started in index order [0, launched_) on every rank; a bucket is packed exactly
// once per synced step, right before it is started; finish() leaves the reducer ready for the next step.
#include "dist/gradient_reducer.hpp"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/error.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_check.hpp"

namespace sdn::dist {

// Post-hook on a parameter's AccumulateGrad node: runs after the gradient has been added to .grad.
class GradientReducer::ReadyHook final : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(GradientReducer* owner, size_t param) : owner_(owner), param_(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    owner_->on_grad_ready(param_);
    return outputs;
  }

 private:
  GradientReducer* owner_;
  size_t param_;
};

namespace {

std::vector<NamedTensor> from_dict(const torch::OrderedDict<std::string, torch::Tensor>& dict) {
  std::vector<NamedTensor> out;
  out.reserve(dict.size());
  for (const auto& item : dict) out.push_back({item.key(), item.value()});
  return out;
}

// dtype and device TYPE: ranks use different device indices (cuda:0, cuda:1) for the same layout.
std::string kind_of(const torch::Tensor& t) {
  return std::string(c10::toString(t.scalar_type())) + "@" + c10::DeviceTypeName(t.device().type(), true);
}

// A contiguous tensor of `sizes` over `flat`'s storage from element `offset`. set_() makes a plain tensor, not
// an autograd view: Optimizer::zero_grad() calls detach_() on every gradient, which views refuse.
torch::Tensor slot_of(const torch::Tensor& flat, int64_t offset, c10::IntArrayRef sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t d = sizes.size(); d-- > 1;) strides[d - 1] = strides[d] * std::max<int64_t>(1, sizes[d]);
  torch::NoGradGuard no_grad;
  auto slot = torch::empty({0}, flat.options());
  slot.set_(flat.storage(), flat.storage_offset() + offset, sizes, strides);
  return slot;
}

// Whether `grad` is exactly `slot` in memory (zero_grad may have replaced the tensor by a detached alias).
bool is_slot(const torch::Tensor& grad, const torch::Tensor& slot) {
  return grad.data_ptr() == slot.data_ptr() && grad.sizes() == slot.sizes() && grad.strides() == slot.strides();
}

}  // namespace

std::vector<NamedTensor> named_parameters(const torch::nn::Module& module) {
  return from_dict(module.named_parameters(/*recurse=*/true));
}

std::vector<NamedTensor> named_buffers(const torch::nn::Module& module) {
  return from_dict(module.named_buffers(/*recurse=*/true));
}

GradientReducer::GradientReducer(std::vector<NamedTensor> params, const ReducerOptions& options, MPI_Comm comm)
    : views_(options.grad_as_bucket_view), name_(options.name) {
  SDN_MPI_CHECK(MPI_Comm_size(comm, &world_));
  for (auto& p : params) {
    if (!p.tensor.defined() || !p.tensor.requires_grad()) continue;  // frozen: never reduced
    if (!p.tensor.is_floating_point())
      throw Error("reducer '" + name_ + "': parameter '" + p.name + "' is not floating point");
    if (p.tensor.layout() != torch::kStrided)
      throw Error("reducer '" + name_ + "': parameter '" + p.name + "' is sparse; only dense gradients are reduced");
    if (!params_.empty() && p.tensor.device() != params_.front().tensor.device())
      throw Error("reducer '" + name_ + "': parameter '" + p.name + "' is on " + p.tensor.device().str() +
                      " but '" + params_.front().name + "' is on " + params_.front().tensor.device().str(),
                  "a reducer serves one device per rank; move the model with model->to(device) first");
    params_.push_back(std::move(p));
  }

  std::vector<int64_t> sizes;
  std::vector<std::string> kinds;
  for (const auto& p : params_) {
    sizes.push_back(p.tensor.numel() * static_cast<int64_t>(p.tensor.element_size()));
    kinds.push_back(kind_of(p.tensor));
  }
  plan_ = assign_buckets(sizes, kinds, options.bucket_cap_bytes, options.first_bucket_cap_bytes);
  check_same_on_all_ranks(comm, layout_fingerprint(plan_, sizes), "gradient bucket layout of reducer '" + name_ + "'");

  bucket_of_.assign(params_.size(), 0);
  offset_of_.assign(params_.size(), 0);
  for (size_t b = 0; b < plan_.size(); ++b) {
    int64_t offset = 0;
    for (int m : plan_[b].members) {
      bucket_of_[static_cast<size_t>(m)] = b;
      offset_of_[static_cast<size_t>(m)] = offset;
      offset += params_[static_cast<size_t>(m)].tensor.numel();
    }
    numel_of_.push_back(offset);
    const auto& first = params_[static_cast<size_t>(plan_[b].members.front())].tensor;
    // Gradient elements, then one "this rank has a gradient" count per member.
    flats_.push_back(torch::zeros({offset + static_cast<int64_t>(plan_[b].members.size())}, first.options()
                                                                                           .requires_grad(false)));
  }
  if (views_) {
    slots_.resize(params_.size());
    for (size_t i = 0; i < params_.size(); ++i)
      slots_[i] = slot_of(flats_[bucket_of_[i]], offset_of_[i], params_[i].tensor.sizes());
    for (size_t i = 0; i < params_.size(); ++i) adopt(i);  // gradients that exist already move in now
  }
  ready_.assign(params_.size(), 0);
  pending_.assign(plan_.size(), 0);
  waited_.assign(plan_.size(), 0);
  reset_step();

  for (size_t i = 0; i < params_.size(); ++i) {
    // The tensor holds only a weak reference to its AccumulateGrad node; owning it keeps our hook attached
    // across iterations (a fresh node would be created without it).
    auto accumulator = torch::autograd::impl::grad_accumulator(params_[i].tensor);
    SDN_CHECK(accumulator != nullptr, "no gradient accumulator for parameter '" + params_[i].name + "'");
    hook_keys_.push_back(accumulator->add_post_hook(std::make_unique<ReadyHook>(this, i)));
    accumulators_.push_back(std::move(accumulator));
  }
}

GradientReducer::~GradientReducer() { detach_hooks(); }

void GradientReducer::detach_hooks() {
  for (size_t i = 0; i < accumulators_.size(); ++i) accumulators_[i]->del_post_hook(hook_keys_[i]);
  accumulators_.clear();
  hook_keys_.clear();
}

std::string GradientReducer::describe_bucket(size_t bucket) const {
  return "gradient bucket " + std::to_string(bucket) + " of " + std::to_string(plan_.size()) + " of reducer '" + name_ +
         "'";
}

void GradientReducer::set_sync(bool sync) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool mid_step = launched_ > 0 || std::find(ready_.begin(), ready_.end(), 1) != ready_.end();
  SDN_CHECK(!mid_step, "reducer '" + name_ + "': set_sync() between a synced backward and its finish()");
  sync_ = sync;
}

void GradientReducer::reset_step() {
  std::fill(ready_.begin(), ready_.end(), 0);
  std::fill(waited_.begin(), waited_.end(), 0);
  for (size_t b = 0; b < plan_.size(); ++b) pending_[b] = static_cast<int>(plan_[b].members.size());
  launched_ = 0;
}

void GradientReducer::on_grad_ready(size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_) return;
  if (ready_[param])
    throw Error("reducer '" + name_ + "': parameter '" + params_[param].name +
                    "' received a second gradient before finish()",
                "call finish() after every synchronised backward; for several backward passes into the same "
                "parameters use set_sync(false) for all but the last");
  ready_[param] = 1;
  if (views_) adopt(param);  // usually a no-op: backward accumulated into the slot
  const size_t bucket = bucket_of_[param];
  if (--pending_[bucket] == 0 && bucket == launched_) {
    start_ready_buckets();
  } else {
    poke();
  }
}

void GradientReducer::start_ready_buckets() {
  // Strict bucket order: a bucket that is complete but behind an incomplete one waits its turn, because
  // every rank must issue the same collectives in the same order.
  while (launched_ < plan_.size() && pending_[launched_] == 0) {
    pack(launched_);
    start(launched_, flats_[launched_]);
    ++stats_.buckets_started_in_backward;
    ++launched_;
  }
}

void GradientReducer::adopt(size_t param) {
  auto& p = params_[param];
  const auto& grad = p.tensor.grad();
  auto& slot = slots_[param];
  if (!grad.defined() || is_slot(grad, slot)) return;
  SDN_CHECK(!grad.is_sparse(), "reducer '" + name_ + "': sparse gradient for '" + p.name + "'");
  torch::NoGradGuard no_grad;
  slot.copy_(grad);
  p.tensor.mutable_grad() = slot;
}

void GradientReducer::pack(size_t bucket) {
  torch::NoGradGuard no_grad;
  auto& flat = flats_[bucket];
  const auto& members = plan_[bucket].members;
  const int64_t numel = numel_of_[bucket];
  auto counts = flat.narrow(0, numel, static_cast<int64_t>(members.size()));
  counts.fill_(1);  // one op per bucket; the rare parameter without a gradient is set to 0 below
  if (views_) {
    // The gradients are in their slots already; only a missing one needs zeros (the slot may hold last step's).
    for (size_t k = 0; k < members.size(); ++k) {
      const auto m = static_cast<size_t>(members[k]);
      if (params_[m].tensor.grad().defined()) {
        adopt(m);
      } else {
        slots_[m].zero_();
        counts.narrow(0, static_cast<int64_t>(k), 1).zero_();
      }
    }
    return;
  }
  for (size_t k = 0; k < members.size(); ++k) {
    const auto& param = params_[static_cast<size_t>(members[k])];
    auto view = flat.narrow(0, offset_of_[static_cast<size_t>(members[k])], param.tensor.numel());
    const auto& grad = param.tensor.grad();
    if (grad.defined()) {
      SDN_CHECK(!grad.is_sparse(), "reducer '" + name_ + "': sparse gradient for '" + param.name + "'");
      view.view(grad.sizes()).copy_(grad);
    } else {
      view.zero_();
      counts.narrow(0, static_cast<int64_t>(k), 1).zero_();
    }
  }
}

void GradientReducer::unpack(size_t bucket) {
  torch::NoGradGuard no_grad;
  auto& flat = flats_[bucket];
  const auto& members = plan_[bucket].members;
  // Dividing straight into .grad reads the sum once and writes the average once (no in-place pass).
  const auto world = torch::scalar_tensor(static_cast<double>(world_), torch::dtype(flat.scalar_type()));
  // The counts are read on the host only when this rank lacks a gradient (a device sync, so not by default).
  torch::Tensor counts;
  auto has_gradient_somewhere = [&](size_t k) {
    if (!counts.defined())
      counts = flat.narrow(0, numel_of_[bucket], static_cast<int64_t>(members.size())).to(torch::kCPU, torch::kDouble);
    return counts[static_cast<int64_t>(k)].item<double>() > 0;
  };
  if (views_) {
    // One in-place pass over the bucket (the same division, element by element, as the copying path).
    flat.narrow(0, 0, numel_of_[bucket]).div_(world);
    for (size_t k = 0; k < members.size(); ++k) {
      const auto m = static_cast<size_t>(members[k]);
      auto& param = params_[m].tensor;
      if (param.grad().defined() ? !is_slot(param.grad(), slots_[m]) : has_gradient_somewhere(k))
        param.mutable_grad() = slots_[m];
    }
    return;
  }
  for (size_t k = 0; k < members.size(); ++k) {
    auto& param = params_[static_cast<size_t>(members[k])].tensor;
    auto view = flat.narrow(0, offset_of_[static_cast<size_t>(members[k])], param.numel()).view(param.sizes());
    if (param.grad().defined()) {
      torch::div_out(param.mutable_grad(), view, world);
      continue;
    }
    if (has_gradient_somewhere(k)) {
      auto grad = torch::empty_like(param);  // the parameter's own layout (grad layout contract)
      torch::div_out(grad, view, world);
      param.mutable_grad() = grad;
    }
  }
}

void GradientReducer::finish() {
  if (!sync_) return;
  const auto t0 = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (launched_ < plan_.size()) {
    // Parameters that produced no gradient this step on this rank hold these buckets back; send what .grad
    // holds (or zeros) so that every rank still issues every collective in order.
    begin_group();
    for (; launched_ < plan_.size(); ++launched_) {
      pack(launched_);
      start(launched_, flats_[launched_]);
      ++stats_.buckets_started_in_finish;
    }
    end_group();
  }
  for (size_t b = 0; b < plan_.size(); ++b) {
    wait(b, flats_[b]);
    waited_[b] = 1;
    unpack(b);
  }
  reset_step();
  ++stats_.synced_steps;
  stats_.last_finish_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sdn::dist

// Implements checkpoint <-> live state mapping (see train_state.hpp).
#include "train/train_state.hpp"

#include <ATen/CPUGeneratorImpl.h>
#if SDN_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

#include "core/error.hpp"

namespace sdn::train {
namespace {

// Optimiser state fields per parameter, as tensors. LibTorch keys state by the parameter's TensorImpl.
std::vector<std::pair<std::string, torch::Tensor>> param_state(torch::optim::Optimizer& opt, const torch::Tensor& p) {
  auto& state = opt.state();
  auto it = state.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
  if (it == state.end()) return {};
  if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get()))
    return {{"momentum_buffer", sgd->momentum_buffer()}};
  if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
    std::vector<std::pair<std::string, torch::Tensor>> f = {
        {"step", torch::tensor(adam->step(), torch::kLong)}, {"exp_avg", adam->exp_avg()}, {"exp_avg_sq", adam->exp_avg_sq()}};
    if (adam->max_exp_avg_sq().defined()) f.emplace_back("max_exp_avg_sq", adam->max_exp_avg_sq());
    return f;
  }
  throw Error("checkpoint: optimiser state of this kind is not supported");
}

void set_param_state(torch::optim::Optimizer& opt, const torch::Tensor& p, const std::string& prefix,
                     const std::map<std::string, torch::Tensor>& t) {
  const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
  auto find = [&](const std::string& field) -> torch::Tensor {
    auto it = t.find(prefix + field);
    return it == t.end() ? torch::Tensor() : it->second.to(p.device());
  };
  if (dynamic_cast<torch::optim::SGD*>(&opt)) {
    auto buf = find("momentum_buffer");
    if (!buf.defined()) return;  // no momentum yet (saved before the first step)
    auto s = std::make_unique<torch::optim::SGDParamState>();
    s->momentum_buffer(buf.to(p.dtype()));
    opt.state()[key] = std::move(s);
  } else if (dynamic_cast<torch::optim::Adam*>(&opt)) {
    auto avg = find("exp_avg");
    if (!avg.defined()) return;
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(find("step").item<int64_t>());
    s->exp_avg(avg.to(p.dtype()));
    s->exp_avg_sq(find("exp_avg_sq").to(p.dtype()));
    if (auto m = find("max_exp_avg_sq"); m.defined()) s->max_exp_avg_sq(m.to(p.dtype()));
    opt.state()[key] = std::move(s);
  } else {
    throw Error("checkpoint: optimiser of this kind is not supported");
  }
}

}  // namespace

std::map<std::string, torch::Tensor> collect_state(Stage& stage) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, module] : stage.modules()) {
    for (const auto& p : module->named_parameters()) out[name + "/" + p.key()] = p.value().detach();
    for (const auto& b : module->named_buffers()) out[name + "/" + b.key()] = b.value().detach();
  }
  for (auto& phase : stage.phases())
    for (auto& [pname, p] : phase.params)
      for (auto& [field, t] : param_state(*phase.optimizer, p)) out["optim/" + phase.name + "/" + pname + "/" + field] = t;
  return out;
}

void restore_state(Stage& stage, const std::map<std::string, torch::Tensor>& t, const std::string& file,
                   bool optimiser) {
  std::vector<std::string> problems;
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& key, torch::Tensor dst) {
    auto it = t.find(key);
    if (it == t.end()) return problems.push_back("missing " + key);
    if (it->second.sizes() != dst.sizes())
      return problems.push_back(key + ": shape " + c10::str(it->second.sizes()) + " in the file, " + c10::str(dst.sizes()) +
                                " in the model");
    dst.copy_(it->second);
  };
  for (auto& [name, module] : stage.modules()) {
    for (auto& p : module->named_parameters()) copy(name + "/" + p.key(), p.value());
    for (auto& b : module->named_buffers()) copy(name + "/" + b.key(), b.value());
  }
  if (!problems.empty()) {
    std::string msg = file + " does not fit this model:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw Error(msg, "resume with the configuration that wrote it (its RUN/run.ini)");
  }
  if (!optimiser) return;
  for (auto& phase : stage.phases()) {
    phase.optimizer->state().clear();
    for (auto& [pname, p] : phase.params) set_param_state(*phase.optimizer, p, "optim/" + phase.name + "/" + pname + "/", t);
  }
}

torch::Tensor cpu_rng_state() { return at::detail::getDefaultCPUGenerator().get_state(); }

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

namespace {

#if SDN_WITH_CUDA
at::Generator cuda_generator(torch::Device device) {
  return at::cuda::detail::getDefaultCUDAGenerator(device.has_index() ? device.index() : 0);
}
#endif

}  // namespace

std::map<std::string, torch::Tensor> rng_states(int rank, torch::Device device) {
  const std::string r = std::to_string(rank);
  std::map<std::string, torch::Tensor> out{{"rng/cpu/" + r, cpu_rng_state()}};
#if SDN_WITH_CUDA
  if (device.is_cuda()) out["rng/cuda/" + r] = cuda_generator(device).get_state();
#endif
  return out;
}

bool restore_rng_states(const std::map<std::string, torch::Tensor>& t, int rank, torch::Device device) {
  const std::string r = std::to_string(rank);
  auto cpu = t.find("rng/cpu/" + r);
  if (cpu == t.end()) return false;
#if SDN_WITH_CUDA
  auto cuda = t.find("rng/cuda/" + r);
  if (device.is_cuda() && cuda == t.end()) return false;
  if (device.is_cuda()) {
    auto gen = cuda_generator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(cuda->second);
  }
#endif
  set_cpu_rng_state(cpu->second);
  return true;
}

}  // namespace sdn::train

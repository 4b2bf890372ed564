// Implements the optimiser step (see step_runner.hpp).
#include "train/step_runner.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "dist/reducer_factory.hpp"

namespace sdn::train {

StepRunner::StepRunner(Stage& stage, const dist::Communicator* comm, dist::ReducerOptions reducer)
    : stage_(stage), comm_(comm), reducer_options_(std::move(reducer)), names_(stage.terms()) {
  if (names_.empty()) throw Error("internal: stage '" + stage.name() + "' declares no loss terms");
  rebuild_reducers();
}

void StepRunner::rebuild_reducers() {
  reducers_.clear();
  if (!comm_) return;
  for (auto& phase : stage_.phases()) {
    std::vector<dist::NamedTensor> params;
    for (auto& [n, t] : phase.params) params.push_back({n, t});
    dist::ReducerOptions ro = reducer_options_;
    ro.name = phase.name;
    reducers_.push_back(dist::make_reducer(std::move(params), ro, *comm_));
  }
}

std::vector<double> StepRunner::run(std::int64_t step, std::int64_t total,
                                    const std::vector<std::vector<data::Sample>>& micro) {
  std::vector<double> terms(names_.size(), 0.0);
  const double n_micro = static_cast<double>(micro.size());
  auto& phases = stage_.phases();
  stage_.begin_step(step);
  for (size_t p = 0; p < phases.size(); ++p) {
    set_learning_rate(phases[p], stage_.lr(p, step, total));
    phases[p].optimizer->zero_grad();
    for (size_t m = 0; m < micro.size(); ++m) {
      // Only the last micro-batch reduces: the others accumulate locally (no_sync). Other phases' reducers
      // stay silent: a GAN's generator loss back-propagates through the discriminator's parameters, whose
      // gradients must not count as the discriminator's own (its phase zeroes them before its backward).
      for (size_t q = 0; q < reducers_.size(); ++q) reducers_[q]->set_sync(q == p && m + 1 == micro.size());
      auto l = stage_.loss(p, m, micro[m]);
      (l.total / n_micro).backward();
      for (const auto& [name, v] : l.terms) {
        auto it = std::find(names_.begin(), names_.end(), name);
        if (it == names_.end())
          throw Error("internal: stage '" + stage_.name() + "' reported loss term '" + name + "', which it did not declare");
        terms[static_cast<size_t>(it - names_.begin())] += v / n_micro;
      }
    }
    if (p < reducers_.size()) reducers_[p]->finish();
    phases[p].optimizer->step();
  }
  stage_.end_step();
  return terms;
}

std::vector<std::pair<std::string, double>> StepRunner::learning_rates(std::int64_t step, std::int64_t total) const {
  std::vector<std::pair<std::string, double>> out;
  auto& phases = stage_.phases();
  for (size_t p = 0; p < phases.size(); ++p) {
    const double scale = phases[p].lr_scale.empty() ? 1.0 : phases[p].lr_scale.front();
    out.emplace_back(phases[p].name, stage_.lr(p, step, total) * scale);
  }
  return out;
}

}  // namespace sdn::train

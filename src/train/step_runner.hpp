// One optimiser step exactly as `sdn train` runs it, shared with `sdn bench step|ckpt` so the benchmarks time
// what training runs: begin_step; per phase: its learning rates, zero grads, every micro-batch's loss and
// backward (only the last micro-batch's backward reduces, and only this phase's reducer listens), finish the
// reduction, the optimiser step; end_step. Loss terms come back in the stage's declared order.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "data/sample.hpp"
#include "dist/gradient_reducer.hpp"
#include "train/stage.hpp"

namespace sdn::dist {
class Communicator;
}

namespace sdn::train {

class StepRunner {
 public:
  // `comm` null: no gradient reduction (one process, benchmarks). `reducer` is the template of every phase's
  // reducer options (its name is the phase's).
  StepRunner(Stage& stage, const dist::Communicator* comm, dist::ReducerOptions reducer = {});
  // One reducer per phase of the stage's current phases(); call again after the phases change.
  void rebuild_reducers();

  // Step `step` of `total` on this rank's micro-batches. Returns this rank's terms (declared order), each the
  // mean over the micro-batches, a term missing from a micro-batch counting as 0.
  std::vector<double> run(std::int64_t step, std::int64_t total, const std::vector<std::vector<data::Sample>>& micro);

  const std::vector<std::string>& term_names() const { return names_; }
  // The learning rate each phase trains with at `step` (its first optimiser group).
  std::vector<std::pair<std::string, double>> learning_rates(std::int64_t step, std::int64_t total) const;

 private:
  Stage& stage_;
  const dist::Communicator* comm_;
  dist::ReducerOptions reducer_options_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<dist::GradientReducer>> reducers_;
};

}  // namespace sdn::train

// What a 3D-SDN branch supplies to the stage-independent training loop (docs/architecture.md "A stage"):
// its modules (checkpointed and broadcast by name), its optimisation phases (one for most branches; a GAN
// has two, each with its own parameters, optimiser and gradient reduction), the declared loss terms, the
// loss of one micro-batch per phase, the learning-rate schedule with its schedule points, the items it trains
// on, evaluation and prediction. The loop owns everything else: stepping, accumulation, reduction, progress,
// checkpoints and the stop protocol.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/augment.hpp"
#include "data/sample.hpp"

namespace sdn::dist {
class Communicator;
}
namespace sdn::data {
class ShardSet;
struct Item;
}

namespace sdn::train {

// One optimisation phase: these parameters, updated by this optimiser, after their own gradient reduction.
struct Phase {
  std::string name;                              // "model"; "G"/"D" for a GAN
  std::vector<std::pair<std::string, torch::Tensor>> params;  // trainable, named (checkpoint keys)
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  // Learning rate of optimiser param group g = the phase's rate x lr_scale[g] (missing entries: 1).
  std::vector<double> lr_scale;
};

// The loss of one micro-batch of one phase. `total` is differentiable; `terms` are detached scalars by their
// declared name (Stage::terms()); a declared term missing here counts as 0 for this micro-batch and rank.
struct LossTerms {
  torch::Tensor total;
  std::vector<std::pair<std::string, double>> terms;
};

// Evaluation results, already reduced across ranks: scalar metrics plus a printable table.
struct EvalResult {
  std::vector<std::pair<std::string, double>> metrics;  // e.g. {"mIoU", 0.41}, {"pixel_acc", 0.87}
  std::string table;                                    // human-readable, for stdout and RUN/eval/
  std::string csv;                                      // machine-readable, for RUN/eval/
};

// What `sdn eval` / `sdn predict` ask of a trained stage beyond the shard split.
struct InferenceOptions {
  std::vector<int> scales;        // multi-scale stages: short sides averaged (empty: the stage's default)
  std::int64_t limit = 0;         // first N samples (0: all)
  std::vector<std::int64_t> indices;  // predict: these samples
  std::string out;                // predict: output directory
};

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string name() const = 0;
  virtual data::Fields fields() const = 0;
  virtual data::AugmentOptions augment() const = 0;
  // Checkpointed, broadcast-at-start modules by name ("model" -> parameters + buffers).
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> modules() = 0;
  virtual std::vector<Phase>& phases() = 0;
  // Every loss term this stage can report, phase-prefixed for multi-phase stages ("G/gan", "D/real"), in the
  // order of the progress line and logs/metrics.tsv. The first is the one the progress line calls "loss".
  virtual std::vector<std::string> terms() const = 0;

  // The items the stage trains on: null = one item per frame; else e.g. object crops (many per frame, filtered).
  virtual std::shared_ptr<const std::vector<data::Item>> items(const data::ShardSet& train) { return nullptr; }

  // One optimiser step: begin_step, then for each phase and micro-batch loss(), then end_step. A stage may keep
  // what one phase computed for the next (a GAN's generated images feed the discriminator update).
  virtual void begin_step(std::int64_t step) {}
  // Forward + loss of phase `phase` on micro-batch `micro` of this rank. Called in training mode.
  virtual LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) = 0;
  virtual void end_step() {}

  // Learning rate of phase `phase` at optimiser step `step` of `total_steps`.
  virtual double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const = 0;
  // Steps where the trainable parameters, phases or optimiser groups change (ascending, within (0, total)).
  virtual std::vector<std::int64_t> schedule_points(std::int64_t total_steps) const { return {}; }
  // Makes phases() those of the schedule segment that contains `step` (fresh optimisers at a change). The loop
  // calls it before restoring a checkpoint and right after the step that reaches a point, before it saves, so a
  // checkpoint always holds the optimiser state of the segment its step starts.
  virtual void enter_schedule(std::int64_t step, std::int64_t total_steps) {}

  // Evaluation over `eval` (options.limit 0: all), split across the ranks of `comm`.
  virtual EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& options,
                              const dist::Communicator& comm) = 0;
  // Writes the stage's predictions for the chosen samples under options.out (rank-split). Returns a summary.
  virtual std::string predict(const data::ShardSet& set, const InferenceOptions& options,
                              const dist::Communicator& comm) = 0;
  // The device the stage's modules live on.
  virtual torch::Device device() const = 0;
  // The model name a weights file of `module` records (`sdn weights`; checked on import).
  virtual std::string weights_name(const std::string& module) const { return name() + "." + module; }
};

// Sets the learning rate of every parameter group of `phase`'s optimiser (lr x lr_scale[group]).
void set_learning_rate(Phase& phase, double lr);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// Poly decay of the original: base * (1 - step/total)^power (0 at and after total).
double poly_lr(double base, std::int64_t step, std::int64_t total, double power);

// The trainable (requires_grad) parameters of `module`, named with `prefix`.
std::vector<std::pair<std::string, torch::Tensor>> trainable_parameters(torch::nn::Module& module,
                                                                         const std::string& prefix = "");

}  // namespace sdn::train

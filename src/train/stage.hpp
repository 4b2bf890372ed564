// What a 3D-SDN branch supplies to the stage-independent training loop (docs/architecture.md "A stage"):
// its modules (checkpointed and broadcast by name), its optimisation phases (one for most branches; a GAN
// has two, each with its own parameters, optimiser and gradient reduction), the loss of one micro-batch per
// phase with named terms, the learning-rate schedule, and evaluation. The loop owns everything else:
// stepping, accumulation, reduction, progress, checkpoints and the stop protocol.
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
}

namespace sdn::train {

// One optimisation phase: these parameters, updated by this optimiser, after their own gradient reduction.
struct Phase {
  std::string name;                              // "model"; "generator"/"discriminator" for a GAN
  std::vector<std::pair<std::string, torch::Tensor>> params;  // trainable, named (checkpoint keys)
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

// The loss of one micro-batch. `total` is differentiable; `terms` are detached scalars for logging,
// averaged over micro-batches and ranks by the loop.
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

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string name() const = 0;
  virtual data::Fields fields() const = 0;
  virtual data::AugmentOptions augment() const = 0;
  // Checkpointed, broadcast-at-start modules by name ("model" -> parameters + buffers).
  virtual std::vector<std::pair<std::string, torch::nn::Module*>> modules() = 0;
  virtual std::vector<Phase>& phases() = 0;
  // Forward + loss of phase `phase` on one micro-batch of this rank. Called in training mode.
  virtual LossTerms loss(size_t phase, const std::vector<data::Sample>& micro) = 0;
  // Learning rate of phase `phase` at optimiser step `step` of `total_steps`.
  virtual double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const = 0;
  // Evaluation over samples [0, limit) of `eval` (limit 0: all), split across the ranks of `comm`.
  virtual EvalResult evaluate(const data::ShardSet& eval, std::int64_t limit, const dist::Communicator& comm) = 0;
  // The device the stage's modules live on.
  virtual torch::Device device() const = 0;
};

// Sets every parameter group of `optimizer` to `lr`.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// Poly decay of the original: base * (1 - step/total)^power (0 at and after total).
double poly_lr(double base, std::int64_t step, std::int64_t total, double power);

}  // namespace sdn::train

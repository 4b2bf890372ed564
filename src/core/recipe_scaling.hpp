// Scaling a training recipe to more GPUs: global batch = GPUs x per-GPU batch, the learning rate by the linear rule
// (with a warm-up) or the square-root rule, and the steps cut so that the run sees the same number of images; the
// poly schedule then runs over the new length. Pure arithmetic, shared by `sdn plan` (slurm/) and `sdn train`.
// Accuracy caveat: a larger batch is not the same optimisation; docs/expanse.md says what to expect.
#pragma once

#include <cstdint>
#include <string>

namespace sdn::recipe {

enum class Rule { kNone, kLinear, kSqrt };

// "none" | "linear" | "sqrt"; returns the error text ("" on success).
std::string parse_rule(const std::string& text, Rule& out);
const char* rule_name(Rule rule);

struct Recipe {
  std::int64_t total_steps = 0;
  std::int64_t global_batch = 0;
  std::int64_t per_gpu_batch = 0;
  double lr = 0;
  std::int64_t warmup_steps = 0;
};

// Warm-up of the linear rule when the batch grows: this fraction of the new steps (Goyal et al.: 5 of 90 epochs).
inline constexpr double kLinearWarmupFraction = 0.05;

// The recipe for `gpus` GPUs: global batch gpus x per_gpu_batch; k = new / old global batch; lr x k (linear) or
// x sqrt(k); steps = ceil(old steps x old batch / new batch); the linear rule with k > 1 warms up over
// max(old warm-up, 5% of the new steps), else the old warm-up is scaled to the new length. kNone: unchanged.
Recipe scale(const Recipe& base, int gpus, Rule rule);

// "global batch 8 (4 GPUs x 2), lr 0.04 (linear rule, x4), warm-up 1250 steps, 125000 steps (same 1000000 images)"
std::string describe(const Recipe& base, const Recipe& scaled, Rule rule);

}  // namespace sdn::recipe

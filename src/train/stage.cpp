// Implements the small schedule helpers shared by all stages (see stage.hpp).
#include "train/stage.hpp"

#include <cmath>

namespace sdn::train {

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double poly_lr(double base, std::int64_t step, std::int64_t total, double power) {
  if (total <= 0 || step >= total) return 0.0;
  return base * std::pow(1.0 - static_cast<double>(step) / static_cast<double>(total), power);
}

}  // namespace sdn::train

// Implements the small schedule helpers shared by all stages (see stage.hpp).
#include "train/stage.hpp"

#include <cmath>

namespace sdn::train {

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void set_learning_rate(Phase& phase, double lr) {
  auto& groups = phase.optimizer->param_groups();
  for (size_t g = 0; g < groups.size(); ++g)
    groups[g].options().set_lr(lr * (g < phase.lr_scale.size() ? phase.lr_scale[g] : 1.0));
}

double poly_lr(double base, std::int64_t step, std::int64_t total, double power) {
  if (total <= 0 || step >= total) return 0.0;
  return base * std::pow(1.0 - static_cast<double>(step) / static_cast<double>(total), power);
}

std::vector<std::pair<std::string, torch::Tensor>> trainable_parameters(torch::nn::Module& module,
                                                                         const std::string& prefix) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : module.named_parameters())
    if (item.value().requires_grad()) out.emplace_back(prefix + item.key(), item.value());
  return out;
}

}  // namespace sdn::train

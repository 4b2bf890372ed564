// Implements the textural learning-rate schedule (see textural_schedule.hpp).
#include "models/textural/textural_schedule.hpp"

#include "core/error.hpp"

namespace sdn::models::textural {

double textural_learning_rate(double base, std::int64_t epoch, std::int64_t niter, std::int64_t niter_decay) {
  if (epoch < 0 || niter < 0 || niter_decay < 1)
    throw Error("textural schedule: epoch and niter must be >= 0 and niter_decay >= 1");
  // update_learning_rate runs at the end of every 1-based epoch e > niter: old_lr -= base / niter_decay.
  const double step = base / static_cast<double>(niter_decay);
  double lr = base;
  const std::int64_t decays = epoch - niter;  // updates done before 0-based epoch `epoch` starts
  if (decays >= niter_decay) return 0.0;
  for (std::int64_t k = 0; k < decays; ++k) lr = lr - step;
  return lr;
}

}  // namespace sdn::models::textural

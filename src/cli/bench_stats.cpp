// Implements the benchmark arithmetic (see bench_stats.hpp).
#include "cli/bench_stats.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace sdn::cli::bench {

double median(std::vector<double> v) {
  if (v.empty()) throw Error("median of no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double minimum(const std::vector<double>& v) {
  if (v.empty()) throw Error("minimum of no values");
  return *std::min_element(v.begin(), v.end());
}

double maximum(const std::vector<double>& v) {
  if (v.empty()) throw Error("maximum of no values");
  return *std::max_element(v.begin(), v.end());
}

double young_daly_period(double checkpoint_seconds, double mtbf_seconds) {
  return std::sqrt(2.0 * checkpoint_seconds * mtbf_seconds);
}

double checkpoint_overhead(double checkpoint_seconds, double period_seconds) {
  return checkpoint_seconds / (period_seconds + checkpoint_seconds);
}

double expected_waste(double checkpoint_seconds, double period_seconds, double mtbf_seconds) {
  return checkpoint_overhead(checkpoint_seconds, period_seconds) +
         (period_seconds + checkpoint_seconds) / (2.0 * mtbf_seconds);
}

}  // namespace sdn::cli::bench

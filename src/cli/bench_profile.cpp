// Implements the benchmarks' per-op profile (see bench_profile.hpp).
#include "cli/bench_profile.hpp"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

namespace sdn::cli::bench {
namespace {

struct OpTime {
  double self_us = 0, total_us = 0;
  long calls = 0;
};

}  // namespace

std::string profile_ops(const std::function<void()>& fn, int rows) {
  namespace prof = torch::autograd::profiler;
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  try {
    fn();
  } catch (...) {
    prof::disableProfilerLegacy();
    throw;
  }
  const auto lists = prof::disableProfilerLegacy();
  std::map<std::string, OpTime> ops;
  double top_us = 0;  // time inside outermost ranges: the denominator of the percentages
  for (const auto& events : lists) {
    // Ranges nest per thread; a pop closes the innermost open push. Self = own time minus the children's.
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open o = stack.back();
        stack.pop_back();
        const double us = o.push->cpuElapsedUs(e);
        auto& t = ops[o.push->name()];
        t.total_us += us, t.self_us += us - o.children_us, ++t.calls;
        if (stack.empty()) top_us += us;
        else stack.back().children_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, OpTime>> sorted(ops.begin(), ops.end());
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.second.self_us > b.second.self_us; });
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-48s %12s %8s %12s %8s\n", "name", "self CPU ms", "self %", "CPU total ms",
                "calls");
  out += line;
  double self_sum = 0;
  for (const auto& [n, t] : sorted) self_sum += t.self_us;
  for (size_t i = 0; i < sorted.size() && static_cast<int>(i) < rows; ++i) {
    const auto& [n, t] = sorted[i];
    std::snprintf(line, sizeof line, "%-48.48s %12.1f %7.2f%% %12.1f %8ld\n", n.c_str(), t.self_us / 1e3,
                  self_sum > 0 ? 100.0 * t.self_us / self_sum : 0.0, t.total_us / 1e3, t.calls);
    out += line;
  }
  std::snprintf(line, sizeof line, "self CPU time total: %.1f ms (outermost ranges %.1f ms)\n", self_sum / 1e3,
                top_us / 1e3);
  out += line;
  return out;
}

}  // namespace sdn::cli::bench

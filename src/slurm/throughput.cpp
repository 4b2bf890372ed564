// Implements reading measured throughput (see throughput.hpp).
#include "slurm/throughput.hpp"

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "core/journal.hpp"

namespace sdn::slurm {

Measured parse_measured(const std::string& text, const std::string& origin) {
  Measured m;
  auto whole = journal::Event::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!whole.is_discarded() && whole.is_object() && !whole.contains("event")) {
    const double ips = journal::number_or(whole, "images_per_s", 0);
    const double world = std::max(1.0, journal::number_or(whole, "world_size", 1));
    if (ips <= 0)
      throw UsageError(origin + ": no positive \"images_per_s\" in the benchmark result",
                       "pass the JSON written by `sdn bench step`, a run's journal.jsonl, or --images-per-s");
    m.images_per_s_per_gpu = ips / world;
    m.ckpt_seconds = journal::number_or(whole, "ckpt_seconds", 0);
    m.source = "benchmark " + origin;
    return m;
  }
  auto read = journal::parse(text, origin);
  std::vector<double> per_gpu;
  double world_seen = 1;
  for (const auto& e : read.events) {
    const std::string kind = journal::string_or(e, "event", "");
    if (kind == journal::kind::kProgress) {
      const double ips = journal::number_or(e, "images_per_s", 0);
      const double world = std::max(1.0, journal::number_or(e, "world_size", 1));
      if (ips > 0) {
        per_gpu.push_back(ips / world);
        world_seen = world;
      }
    } else if (kind == journal::kind::kCheckpoint) {
      m.ckpt_seconds = std::max(m.ckpt_seconds, journal::number_or(e, "seconds", 0));
    } else if (kind == journal::kind::kStageData) {
      m.stage_seconds = std::max(m.stage_seconds, journal::number_or(e, "seconds", 0));
    }
  }
  if (per_gpu.empty())
    throw UsageError(origin + ": no progress event with a positive images_per_s",
                     "train for a few steps first, or give --images-per-s / --it-per-s");
  std::vector<double> newer(per_gpu.begin() + static_cast<long>(per_gpu.size() / 2), per_gpu.end());
  std::nth_element(newer.begin(), newer.begin() + static_cast<long>(newer.size() / 2), newer.end());
  m.images_per_s_per_gpu = newer[newer.size() / 2];
  m.source = std::to_string(per_gpu.size()) + " progress events of " + origin + " (" +
             std::to_string(static_cast<int>(world_seen)) + " ranks)";
  return m;
}

}  // namespace sdn::slurm

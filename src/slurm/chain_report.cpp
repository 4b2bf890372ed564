// Implements the cost of chunking (see chain_report.hpp).
#include "slurm/chain_report.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"

namespace sdn::slurm {

ChainReport chain_report(const RunState& chained, const RunState& reference, const std::string& chained_name,
                         const std::string& reference_name) {
  if (!chained.complete || chained.chunks.empty())
    throw Error(chained_name + ": the chunked run is not complete (no run_end \"complete\" after its chunks)");
  const TrainEndRecord& ref = reference.train_end;
  if (ref.reason != "complete" || ref.process_seconds <= 0 || ref.wall_seconds <= 0)
    throw Error(reference_name + ": no complete train_end with wall_seconds and process_seconds; "
                "train the reference with this version of `sdn train`");
  const std::int64_t total = chained.chunks.back().step_end;
  if (ref.step != total)
    throw Error("the runs trained different steps: " + chained_name + " ends at " + std::to_string(total) + ", " +
                reference_name + " at " + std::to_string(ref.step));

  ChainReport r;
  r.total_steps = total;
  r.reference_s = ref.process_seconds;
  r.reference_step_s = ref.wall_seconds / static_cast<double>(std::max<std::int64_t>(1, total));
  for (const auto& c : chained.chunks) {
    if (c.end <= 0)
      throw Error(chained_name + ": chunk of job " + c.job_id + " (restart " + std::to_string(c.restart) +
                  ") has no chunk_end: killed chunks have no measurable wall time");
    ChunkCost k;
    k.job_id = c.job_id;
    k.restart = c.restart;
    k.wall_s = c.end - c.start;
    k.steps = c.step_end - c.step_start;
    std::int64_t reported = c.step_end;
    for (const auto& p : chained.progress)
      if (p.time >= c.start && p.time <= c.end) reported = std::max(reported, p.step);
    k.steps_lost = reported - c.step_end;
    k.overhead_s = k.wall_s - static_cast<double>(k.steps) * r.reference_step_s;
    r.chained_s += k.wall_s;
    r.steps_lost += k.steps_lost;
    r.overhead_per_chunk_s += k.overhead_s / static_cast<double>(chained.chunks.size());
    r.chunks.push_back(k);
  }
  r.span_s = chained.chunks.back().end - chained.chunks.front().start;
  r.ratio = r.chained_s / r.reference_s;
  return r;
}

std::string format_chain_report(const ChainReport& r) {
  std::string out = "| chunk | job | restart | wall s | steps | steps lost | not training s |\n"
                    "|---:|---|---:|---:|---:|---:|---:|\n";
  char line[256];
  for (std::size_t i = 0; i < r.chunks.size(); ++i) {
    const auto& k = r.chunks[i];
    std::snprintf(line, sizeof line, "| %zu | %s | %d | %.1f | %lld | %lld | %.1f |\n", i + 1, k.job_id.c_str(),
                  k.restart, k.wall_s, static_cast<long long>(k.steps), static_cast<long long>(k.steps_lost),
                  k.overhead_s);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "\n%lld steps in %zu chunks: chained %.1f s (queue waits excluded; %.1f s first start to end) vs "
                "uninterrupted %.1f s: ratio %.3f; steps lost %lld (%.2f per chunk); %.1f s not training per chunk\n",
                static_cast<long long>(r.total_steps), r.chunks.size(), r.chained_s, r.span_s, r.reference_s, r.ratio,
                static_cast<long long>(r.steps_lost), static_cast<double>(r.steps_lost) / r.chunks.size(),
                r.overhead_per_chunk_s);
  out += line;
  return out;
}

}  // namespace sdn::slurm

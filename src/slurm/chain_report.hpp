// What splitting a run into time-limited jobs cost: per chunk its wall time, steps, steps computed but not
// saved, and the seconds it spent not training; in total the chained wall time (queue and requeue waits
// excluded) against one uninterrupted run of the same steps. Pure functions of two journal summaries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slurm/run_state.hpp"

namespace sdn::slurm {

struct ChunkCost {
  std::string job_id;
  int restart = 0;
  double wall_s = 0;              // chunk_start to chunk_end, as the job script saw it
  std::int64_t steps = 0;         // checkpointed progress of the chunk
  std::int64_t steps_lost = 0;    // steps the trainer reported during the chunk beyond what it saved
  double overhead_s = 0;          // wall_s minus the reference's training time for `steps`
};

struct ChainReport {
  std::vector<ChunkCost> chunks;
  std::int64_t total_steps = 0;
  double chained_s = 0;           // sum of chunk wall times
  double span_s = 0;              // first chunk start to last chunk end (queue and requeue waits included)
  double reference_s = 0;         // the uninterrupted run's process life (start-up and final save included)
  double reference_step_s = 0;    // its training seconds per step
  double ratio = 0;               // chained_s / reference_s
  std::int64_t steps_lost = 0;
  double overhead_per_chunk_s = 0;
};

// Throws sdn::Error naming `chained_name` / `reference_name` if a run is not complete, a chunk has no recorded
// end, the reference lacks its train_end timing, or the two trained different numbers of steps.
ChainReport chain_report(const RunState& chained, const RunState& reference, const std::string& chained_name,
                         const std::string& reference_name);

// A Markdown table (one row per chunk) and the totals, for bench/RESULTS.md.
std::string format_chain_report(const ChainReport& r);

}  // namespace sdn::slurm

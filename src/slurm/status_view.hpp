// What `sdn status` shows: a pure rendering of the plan, the journal summary, the queue and the newest
// checkpoint (progress bar, current job, per-chunk history, throughput, ETA, last loss, why a run stopped), and
// the one-line summary `--follow` prints per change into a pipe. The `--plot` images are plots.hpp's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slurm/run_dir.hpp"
#include "slurm/run_state.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {

struct StatusInputs {
  std::string run_dir;
  RunPlan plan;
  RunState state;
  std::vector<QueueEntry> queue;   // live jobs of this run
  std::int64_t latest_step = 0;    // from RUN/ckpt/latest
  double now = 0;
};

// One word: complete | stopped | cancelled | running | pending | stalled | planned.
std::string run_phase(const StatusInputs& in);

std::string render_status(const StatusInputs& in);

// "[#########...............] 120/400  30%"
std::string progress_bar(std::int64_t done, std::int64_t total);
// Local "MM-DD HH:MM:SS"; "-" for 0.
std::string clock_text(double t);

// Training steps per second over the newest chunk's progress events (0 if fewer than two).
double recent_steps_per_s(const RunState& state);

// "running step 120/400 30% ETA 00:05:00 job 123 RUNNING": phase, progress, ETA, current job; no clock, so that
// it changes only when the run does.
std::string render_status_line(const StatusInputs& in);

}  // namespace sdn::slurm

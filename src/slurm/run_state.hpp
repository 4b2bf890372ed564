// What the journal says about a run (chunks, progress, how it ended) and the guard decisions the job scripts
// act on. Pure functions of the journal events and the newest checkpoint step, so the loop guards (restart
// budget, no progress, cancel) are unit-tested without Slurm.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/journal.hpp"

namespace sdn::slurm {

struct ChunkRecord {
  std::string job_id;
  int restart = 0;
  std::string node;
  int ranks = 0;                   // 0: not recorded
  double start = 0;
  double end = 0;                  // 0: no chunk_end recorded (yet, or the job was killed)
  std::int64_t step_start = 0;     // newest checkpoint step when the chunk started
  std::int64_t step_end = -1;
  int exit_code = -1;
  std::string action;              // continue | done | stop | lost
  std::string reason;
};

struct ProgressPoint {
  double time = 0;
  std::int64_t step = 0;
  double loss = 0;
  double images_per_s = 0;
};

// The trainer's train_end event: how one process ended.
struct TrainEndRecord {
  double time = 0;
  std::string reason;              // complete | signal | deadline | step_limit | error
  std::int64_t step = -1;
  double wall_seconds = 0;         // training wall time over all chunks (0: not recorded)
  double process_seconds = 0;      // that process's life, start-up included (0: not recorded)
  std::string message;             // reason "error": what failed
};

struct RunState {
  std::vector<ChunkRecord> chunks;
  std::vector<ProgressPoint> progress;
  std::int64_t total_steps = 0;          // from progress events (0: unknown)
  double ckpt_seconds_max = 0;           // slowest checkpoint save reported by the trainer
  // The latest submission: chunks after it count against the restart budget; a stop before it is history.
  double submit_time = 0;
  std::string mode;
  std::vector<std::string> job_ids;
  int chunks_since_submit = 0;
  bool cancelled = false;                // `sdn cancel` after the latest submit
  double cancel_time = 0;
  bool complete = false;                 // a run_end "complete" anywhere: the run never trains again
  bool stopped = false;                  // a run_end after the latest submit
  std::string end_reason;                // complete | failure | no_progress | max_chunks | cancelled | ...
  std::string end_message;
  double end_time = 0;
  TrainEndRecord train_end;              // the trainer's last train_end event
};

RunState summarize(const std::vector<journal::Event>& events);

struct Decision {
  std::string action;   // chunk start: run | done | stop;  chunk end: continue | done | stop
  std::string reason;   // machine word: complete, failure, no_progress, max_chunks, cancelled, stopped, lost
  std::string message;  // one sentence for logs and `sdn status`
};

// Before training: refuse finished/stopped/cancelled runs, enforce the chunk budget, and apply the
// no-progress rule to a previous chunk that was killed without recording its end. A previous chunk of this same
// job (`job_id`) with a lower restart count than `restart` was requeued by Slurm itself (PreemptMode=REQUEUE on
// gpu-preempt, a node failure): it resumes whatever it saved, like a chunk that made progress; the chunk budget
// still bounds a job that Slurm keeps requeueing.
Decision decide_chunk_start(const RunState& state, int max_chunks, std::int64_t latest_step,
                            const std::string& job_id = {}, int restart = 0);

// True when the last chunk has no chunk_end and is the same Slurm job as `job_id`, started with a lower restart count:
// Slurm requeued the job without our script's cooperation.
bool requeued_by_slurm(const RunState& state, const std::string& job_id, int restart);

// After the trainer exited with `exit_code`: 0 done; 3 continue only if a newer checkpoint exists (also a death by
// the forwarded USR2/TERM after a newer checkpoint); else stop.
Decision decide_chunk_end(const RunState& state, int exit_code, std::int64_t latest_step);

// The step in a RUN/ckpt/latest pointer ("step-00001200.h5" -> 1200); -1 if it is not such a name.
std::int64_t parse_latest_pointer(const std::string& text);

}  // namespace sdn::slurm

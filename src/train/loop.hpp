// The stage-independent training loop. Design constraints, in the order they bind:
//  1. Every rank executes the same collectives in the same order: the per-phase gradient reductions, then one
//     tiny all-reduce per step carrying the loss terms, the stop vote and the checkpoint vote.
//  2. Everything random is a function of (seed, epoch, sample) or saved: the loader's position is one integer,
//     each rank's CPU generator is checkpointed, so a resumed run repeats the uninterrupted one bit for bit
//     on the same world size, and keeps the global sample order and batch on another.
//  3. A stop (signal, deadline, step limit) happens only at a step boundary, after a checkpoint every rank
//     knows is durable: exit code 3 then always means "resumable".
#pragma once

#include <cstdint>
#include <string>

#include "train/config.hpp"
#include "train/stage.hpp"

namespace sdn::dist {
class Communicator;
}

namespace sdn::train {

// Facts about the outside world that cli/ resolves (components never read the environment).
struct TrainEnv {
  std::string code_version;
  std::string job_id;     // Slurm job id or ""
  double deadline = 0;    // UNIX seconds when the job ends (0: none)
  double process_start = 0;  // UNIX seconds when the process started (start-up cost in train_end; 0: unknown)
  std::string stage_to;   // data.stage_to with its variables expanded ("": no node-local staging)
};

struct RunResult {
  int exit_code = 0;       // core/exit_codes.hpp: kExitOk or kExitResumable
  std::string reason;      // complete | signal | deadline | step_limit
  std::int64_t step = 0;
};

class Trainer {
 public:
  Trainer(const TrainConfig& config, Stage& stage, const dist::Communicator& comm, TrainEnv env);
  // Resumes from the newest valid checkpoint (if any) and trains until done or told to stop. Throws on failure.
  RunResult run();

 private:
  TrainConfig config_;
  Stage& stage_;
  const dist::Communicator& comm_;
  TrainEnv env_;
};

// "step 120/5000   2.4%  3.20 img/s  loss 1.2340  lr 9.980e-03  ETA 01:23:45" (pure).
std::string progress_line(std::int64_t step, std::int64_t total, double images_per_s, double loss, double lr,
                          double eta_seconds);

}  // namespace sdn::train

// The stage-independent training loop. Design constraints, in the order they bind:
//  1. Every rank executes the same collectives in the same order: the per-phase gradient reductions, then one
//     tiny all-reduce per step carrying every declared loss term (0 where a rank had none), the stop vote and
//     the checkpoint vote.
//  2. Everything random is a function of (seed, epoch, item) or saved: the loader's position is one integer,
//     each rank's generators are checkpointed, so a resumed run repeats the uninterrupted one bit for bit
//     on the same world size, and keeps the global item order and batch on another.
//  3. A stop (signal, deadline, step limit) happens only at a step boundary, after a checkpoint every rank
//     knows is durable: exit code 3 then always means "resumable".
//  4. A schedule point (the stage's trainable set or optimiser groups change) is entered right after the step
//     that reaches it and before that step's checkpoint, so resuming at any step restores the right set.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ckpt/checkpoint.hpp"
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
  ckpt::WriteHook write_hook;  // test seam: called at each write phase of a checkpoint (fault injection)
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

// "step 120/5000   2.4%  3.20 img/s  loss 1.2340 pixel_acc 0.5000  lr 9.980e-03  ETA 01:23:45" (pure). `terms`
// in declared order; `lrs` one per phase (named when there are several).
std::string progress_line(std::int64_t step, std::int64_t total, double images_per_s,
                          const std::vector<std::pair<std::string, double>>& terms,
                          const std::vector<std::pair<std::string, double>>& lrs, double eta_seconds);

// Turns on cuDNN's deterministic algorithms and turns off its autotuner when asked (train.deterministic).
void configure_determinism(const ScheduleConfig& schedule);

}  // namespace sdn::train

// The immutable configuration of `sdn train` / `eval` / `predict`: the common sections every stage shares
// ([data] [train] [ckpt] [stop], the model.init_* keys) plus the chosen stage's own sections, held type-erased in
// `stage_options` and declared by the stage (train/stage_registry.hpp). validate() reports every problem at once.
// resume_entries() lists every key that changes the math of training: a checkpoint written under other values
// is refused on resume (unless --ckpt.force_resume), naming the keys.
#pragma once

#include <any>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/options.hpp"

namespace sdn::train {

struct DataConfig {
  std::string shards;               // directory written by `sdn pack`
  std::string split = "train";
  std::string eval_split = "test";
  int threads = 2;                  // loader threads per rank
  int prefetch = 2;                 // global steps prepared ahead
  // Node-local copy of the shards, made once per node per job before training (empty: read data.shards).
  // $VAR / ${VAR} are expanded by the CLI, e.g. /scratch/$USER/job_$SLURM_JOB_ID (Expanse's NVMe).
  std::string stage_to;
};

struct DistConfig {
  // A collective still in flight after this many seconds means a peer rank died or hangs: the watchdog
  // names it and ends the job (exit 4) instead of waiting for the time limit. 0: off.
  double timeout_seconds = 600;
};

// Where a stage's weights start from (model.init_*): an HDF5 weights file, prefix rewrites of its keys
// ("from=to"), and a regex of the model's keys that keep their seeded init.
struct InitConfig {
  std::string weights;
  std::vector<std::string> map;
  std::string skip;
};

struct ScheduleConfig {
  std::int64_t epochs = 100;                // original num_epoch
  std::int64_t iterations_per_epoch = 5000; // original epoch_iters (0: one pass over the items)
  std::int64_t global_batch = 2;            // original: 1 per GPU x 2 GPUs
  std::int64_t per_rank_batch = 1;          // micro-batch size per rank; accumulation fills the rest
  std::uint64_t seed = 304;
  std::int64_t log_every = 20;              // steps between progress lines and journal entries
  std::int64_t eval_every = 0;              // steps between evaluations during training (0: off)
  std::int64_t eval_samples = 0;            // samples per periodic evaluation (0: the whole eval split)
  int threads = 1;                          // LibTorch intra-op threads per rank
  std::string device = "auto";              // auto | cpu | cuda
  bool deterministic = false;               // cuDNN deterministic algorithms, no autotuning (GPU bit-exactness)
  std::string scale_recipe = "none";        // none | linear | sqrt: scale the recipe to the world size at start
};

struct CheckpointConfig {
  std::int64_t every_steps = 0;     // periodic checkpoint every N steps (0: off)
  double every_minutes = 30;        // and/or every T minutes of training (0: off)
  int keep_last = 3;
  std::int64_t milestone_every = 0; // keep checkpoints at multiples of this step too (0: none)
  bool force_resume = false;        // resume even if the training-relevant config differs
};

struct StopConfig {
  std::vector<std::string> signals = {"USR2", "TERM"};  // each only sets a flag; the step boundary acts
  double deadline = 0;              // job end as UNIX time (0: none; `sdn train` asks Slurm when in a job)
  double margin_seconds = 30;       // extra safety before the deadline, on top of measured step+checkpoint time
  std::int64_t max_steps_this_run = 0;  // stop (exit 3) after this many steps in this process (0: no limit)
};

struct TrainConfig {
  std::string stage = "semantic";
  std::string run_dir;
  std::string log_level = "info";
  DataConfig data;
  DistConfig dist;
  InitConfig init;
  ScheduleConfig train;
  CheckpointConfig ckpt;
  StopConfig stop;
  std::any stage_options;           // the stage's own config struct (its StageSpec knows the type)

  std::int64_t total_steps(std::int64_t dataset_size) const;
};

// The stage's own options, typed. Throws Error if `c` holds another stage's options (a wiring bug).
template <class T>
const T& stage_options(const TrainConfig& c) {
  if (const T* t = std::any_cast<T>(&c.stage_options)) return *t;
  throw Error("internal: the configuration of stage '" + c.stage + "' does not hold the options this code expects");
}
template <class T>
T& stage_options(TrainConfig& c) {
  if (T* t = std::any_cast<T>(&c.stage_options)) return *t;
  throw Error("internal: the configuration of stage '" + c.stage + "' does not hold the options this code expects");
}

// Adds the common keys ([data] [dist] [train] [ckpt] [stop], run-dir, log-level, model.init_*) to `s`.
void add_common_options(opt::Schema<TrainConfig>& s);

// Problems of the common sections that need no data or ranks (ranges, combinations).
std::vector<std::string> validate_common(const TrainConfig& c);
// Problems of the common sections that depend on the world size (divisibility).
std::vector<std::string> validate_common_for_world(const TrainConfig& c, int world_size);

// Keys that never change the math of training, whatever the stage: paths, logging, checkpoint cadence, stop
// policy, threads, device, the micro-batch split (elastic resume). Entries ending in '.' are whole sections.
const std::vector<std::string>& resume_neutral_keys();
// True if `key` is matched by an entry of `neutral` (exact key or section prefix ending in '.').
bool is_neutral_key(const std::string& key, const std::vector<std::string>& neutral);

}  // namespace sdn::train

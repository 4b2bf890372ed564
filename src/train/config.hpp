// The immutable configuration of `sdn train` / `sdn eval` / `sdn predict` (configs/semantic.ini documents
// every key). One struct of sub-structs flows from the CLI to the components; validate() reports every
// problem at once. relevant_entries() lists the keys that change the training math: a checkpoint written
// under different values is refused on resume (unless --force-resume), naming the differing keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/options.hpp"

namespace sdn::train {

struct DataConfig {
  std::string shards;               // directory written by `sdn pack`
  std::string split = "train";
  std::string eval_split = "test";
  int threads = 2;                  // loader threads per rank
  int prefetch = 2;                 // global steps prepared ahead
};

struct ModelConfig {
  std::string arch = "resnet50dilated8_ppm_deepsup";  // or drn_d_22
  int num_classes = 14;
  std::string init_weights;         // optional HDF5 weights (sdn weights export / scripts/pth_to_h5.py)
  bool sync_bn = true;              // BatchNorm statistics over all ranks (the original's SyncBN)
};

struct OptimConfig {
  double lr = 0.01;                 // original: SGD lr 0.01 for encoder and decoder
  double momentum = 0.9;
  double weight_decay = 1e-4;
  double lr_power = 0.9;            // poly decay: lr * (1 - step/total)^power
  std::int64_t warmup_steps = 0;    // linear warm-up of the lr over the first steps (recipe scaling; 0: none)
  double deep_sup_scale = 0.4;
};

struct AugmentConfig {
  std::vector<int> short_sides = {100, 150, 200, 300, 375};
  int max_long_side = 1274;
  bool flip = true;
  double brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.1;
};

struct ScheduleConfig {
  std::int64_t epochs = 100;                // original num_epoch
  std::int64_t iterations_per_epoch = 5000; // original epoch_iters (0: one pass over the shards)
  std::int64_t global_batch = 2;            // original: 1 per GPU x 2 GPUs
  std::int64_t per_rank_batch = 1;          // micro-batch size per rank; accumulation fills the rest
  std::uint64_t seed = 304;
  std::int64_t log_every = 20;              // steps between progress lines and journal entries
  std::int64_t eval_every = 0;              // steps between evaluations during training (0: off)
  std::int64_t eval_samples = 0;            // samples per periodic evaluation (0: the whole eval split)
  int threads = 1;                          // LibTorch intra-op threads per rank
  std::string device = "auto";              // auto | cpu | cuda
  std::string scale_recipe = "none";        // none | linear | sqrt: scale the recipe to the world size at start
};

struct CheckpointConfig {
  std::int64_t every_steps = 0;     // periodic checkpoint every N steps (0: off)
  double every_minutes = 30;        // and/or every T minutes of training (0: off)
  int keep_last = 3;
  std::int64_t milestone_every = 0; // keep checkpoints at multiples of this step too (0: none)
  bool force_resume = false;        // resume even if the training-relevant config differs
  std::string kill_at_phase;        // test hook: SIGKILL self at this write phase of the first save
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
  ModelConfig model;
  OptimConfig optim;
  AugmentConfig augment;
  ScheduleConfig train;
  CheckpointConfig ckpt;
  StopConfig stop;

  std::int64_t total_steps(std::int64_t dataset_size) const;
};

const opt::Schema<TrainConfig>& train_schema();

// Problems that need no data or ranks (ranges, combinations); the world size is checked at start-up.
std::vector<std::string> validate(const TrainConfig& c);
// Problems that depend on the world size (divisibility, the batch-1 BatchNorm limit).
std::vector<std::string> validate_for_world(const TrainConfig& c, int world_size);

// "key = value" of every option that changes the math of training (model, optimiser, schedule, data order,
// augmentation): what the checkpoint's config digest covers.
std::vector<std::string> relevant_entries(const TrainConfig& c);

}  // namespace sdn::train

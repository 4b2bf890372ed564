// The two ends of a run's checkpoints: what the loop (and `sdn bench ckpt`) writes into one, and how a start
// resumes from the newest valid one. Resume order matters: the stage enters the schedule segment of the
// checkpoint's step first (its phases and optimisers), then the tensors are restored into them, then every
// rank takes rank 0's weights, so all ranks start identical however their file reads went.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ckpt/checkpoint.hpp"
#include "ckpt/store.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"

namespace sdn::dist {
class Communicator;
}

namespace sdn::train {

// Where the run stands when a checkpoint is taken.
struct CheckpointFacts {
  std::int64_t step = 0, epoch = 0, loader_position = 0;
  std::int64_t world_size = 1, micro_batches = 1;
  double wall_seconds = 0;
  std::string code_version;
};

// The checkpoint of `stage` (rank 0's view) with `rng` (every rank's generators) and the resume entries.
ckpt::Checkpoint make_checkpoint(Stage& stage, const TrainConfig& config, const std::vector<std::string>& entries,
                                 const CheckpointFacts& facts, std::map<std::string, torch::Tensor> rng);

// Every rank's generators gathered to rank 0 (collective; empty map elsewhere).
std::map<std::string, torch::Tensor> gather_rng(const dist::Communicator& comm, torch::Device device);

struct ResumePoint {
  std::string path;                 // empty: fresh start
  std::int64_t step = 0, loader_position = 0;
  double wall_before = 0;
  std::int64_t saved_world = 0;
  std::vector<std::string> forced;  // config differences accepted by --ckpt.force_resume
};

// Collective. Rank 0 picks the newest valid checkpoint of `store`; every rank reads it, checks the stage and the
// config, enters its schedule segment and restores; generators come back on the same world size and are
// re-derived from (seed, rank, step) on another. A fresh start seeds from (seed, rank) and enters step 0.
ResumePoint resume_or_start(Stage& stage, const TrainConfig& config, const std::vector<std::string>& entries,
                            ckpt::Store& store, const dist::Communicator& comm, std::int64_t total_steps);

}  // namespace sdn::train

// The amount of work in one training stage, read from the few keys of a stage config that planning needs
// (total steps, global batch, batch per GPU). The trainer owns the full schema; this reader ignores the rest.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "slurm/ini_doc.hpp"

namespace sdn::slurm {

struct StageWork {
  std::string stage;            // stage name, for job names and tables
  std::int64_t total_steps = 0;  // optimiser steps of the whole stage
  int global_batch = 0;         // images per optimiser step, over all ranks (kept fixed by accumulation)
  int per_gpu_batch = 0;        // images per forward/backward on one GPU
  double lr = 0.01;             // [optim] lr (the trainer's default), for recipe scaling
  std::int64_t warmup_steps = 0;  // [optim] warmup_steps
  std::int64_t total_images() const { return total_steps * global_batch; }
};

// Keys read (the trainer's names, src/train/config.cpp):
//   [train] epochs x [train] iterations_per_epoch   total optimiser steps (iterations_per_epoch 0 = one pass
//                                                   over the shards, unknown here: give --steps instead)
//   [train] global_batch                            samples per optimiser step over all ranks
//   [train] per_rank_batch                          samples per rank (= per GPU) per micro-batch
// The stage name is the file name without extension.
// Fields set (> 0) in `given` (command-line overrides) are taken as they are and not required in the file.
// Throws one UsageError listing every missing or malformed key with file:line.
StageWork read_stage_work(IniDoc doc, const StageWork& given = {});

// run.ini: the stage config text with the overrides of `given` written into the trainer's keys (total steps as
// epochs x iterations_per_epoch, keeping the stage's epoch count when it divides them), so that
// read_stage_work(run.ini) and the trainer see exactly what was planned. `origin` names the text in errors.
// `extra` ("section.key", value) are written too (the scaled learning rate and warm-up).
std::string run_ini_text(const std::string& stage_text, const std::string& origin, const StageWork& given,
                         const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace sdn::slurm

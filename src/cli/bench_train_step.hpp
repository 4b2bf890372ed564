// The trainer's optimisation step on fixed synthetic frames, for the benchmarks: the configured stage built
// through the registry and stepped by train/step_runner (the loop's own step), so what `sdn bench step` and
// `sdn bench ckpt` time is what `sdn train` runs.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "data/sample.hpp"
#include "dist/collectives.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/step_runner.hpp"

namespace sdn::cli::bench {

class TrainStep {
 public:
  // `config` as `sdn train` would use it (stage, model, optimiser); `batch` random height x width frames with
  // random class ids 0..13 (Misc included, so the ignore index is exercised); for Mask R-CNN hashed frames with a
  // grid of car/van instances (bench/maskrcnn_step.py builds the same); for the derenderer `sdn synth` frames that
  // each name a vehicle. `sum` spans the ranks for SyncBN; `comm` (optional) reduces gradients as the loop does,
  // with `reducer` options.
  TrainStep(const train::TrainConfig& config, torch::Device device, int batch, int height, int width,
            dist::CrossRankSum sum, const dist::Communicator* comm = nullptr, dist::ReducerOptions reducer = {});

  // One step; returns its seconds (on CUDA after a device synchronise).
  double run();

  train::Stage& stage() { return *stage_; }

 private:
  torch::Device device_;
  std::unique_ptr<train::Stage> stage_;
  std::unique_ptr<train::StepRunner> runner_;
  std::vector<std::vector<data::Sample>> micro_;
  std::int64_t step_ = 0;
};

}  // namespace sdn::cli::bench

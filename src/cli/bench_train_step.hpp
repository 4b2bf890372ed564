// The trainer's optimisation step on fixed synthetic frames, for the benchmarks: the same SemanticStage
// (models/semantic_batch, SemanticStage::loss, torch::optim::SGD) and the same call order as train/loop.cpp
// with one micro-batch, so what `sdn bench step` and `sdn bench ckpt` time is what `sdn train` runs.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/sample.hpp"
#include "dist/collectives.hpp"
#include "dist/gradient_reducer.hpp"
#include "train/semantic_stage.hpp"

namespace sdn::cli::bench {

class TrainStep {
 public:
  // `config` as `sdn train` would use it (model, optimiser); `batch` random height x width frames with random
  // class ids 0..13 (Misc included, so the ignore index is exercised). `sum` spans the ranks for SyncBN.
  TrainStep(const train::TrainConfig& config, torch::Device device, int batch, int height, int width,
            std::uint64_t seed, dist::CrossRankSum sum);

  // One step; returns its seconds (on CUDA after a device synchronise). `reducer` may be null (one process).
  double run(dist::GradientReducer* reducer = nullptr);

  train::SemanticStage& stage() { return stage_; }

 private:
  torch::Device device_;
  train::SemanticStage stage_;
  std::vector<data::Sample> micro_;
  std::int64_t step_ = 0;
};

}  // namespace sdn::cli::bench

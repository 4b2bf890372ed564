// Implements the benchmarks' training step (see bench_train_step.hpp).
#include "cli/bench_train_step.hpp"

#include <torch/cuda.h>

#include <chrono>
#include <random>

#include "train/stage_registry.hpp"

namespace sdn::cli::bench {
namespace {

// The original's schedule length (100 epochs x 5000 iterations): the poly rate stays ~lr over a benchmark.
constexpr std::int64_t kScheduleSteps = 500000;

}  // namespace

TrainStep::TrainStep(const train::TrainConfig& config, torch::Device device, int batch, int height, int width,
                     dist::CrossRankSum sum, const dist::Communicator* comm, dist::ReducerOptions reducer)
    : device_(device), stage_(train::make_stage(config, {device, std::move(sum)})) {
  stage_->enter_schedule(0, kScheduleSteps);
  runner_ = std::make_unique<train::StepRunner>(*stage_, comm, std::move(reducer));
  std::mt19937 gen(static_cast<std::uint32_t>(config.train.seed));
  std::uniform_int_distribution<int> byte(0, 255), cls(0, 13);
  std::vector<data::Sample> samples;
  for (int i = 0; i < batch; ++i) {
    data::Sample s;
    s.index = i, s.width = width, s.height = height;
    s.rgb.resize(static_cast<size_t>(width) * height * 3);
    s.classes.resize(static_cast<size_t>(width) * height);
    for (auto& v : s.rgb) v = static_cast<std::uint8_t>(byte(gen));
    for (auto& v : s.classes) v = static_cast<std::uint8_t>(cls(gen));
    samples.push_back(std::move(s));
  }
  micro_.push_back(std::move(samples));
}

double TrainStep::run() {
  const auto t0 = std::chrono::steady_clock::now();
  runner_->run(step_, kScheduleSteps, micro_);
  if (device_.is_cuda()) torch::cuda::synchronize();
  ++step_;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sdn::cli::bench

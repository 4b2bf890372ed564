// Implements the benchmarks' training step (see bench_train_step.hpp).
#include "cli/bench_train_step.hpp"

#include <torch/cuda.h>

#include <chrono>
#include <random>

namespace sdn::cli::bench {
namespace {

// The original's schedule length (100 epochs x 5000 iterations): the poly rate stays ~lr over a benchmark.
constexpr std::int64_t kScheduleSteps = 500000;

}  // namespace

TrainStep::TrainStep(const train::TrainConfig& config, torch::Device device, int batch, int height, int width,
                     std::uint64_t seed, dist::CrossRankSum sum)
    : device_(device), stage_(config, device, std::move(sum)) {
  std::mt19937 gen(static_cast<std::uint32_t>(seed));
  std::uniform_int_distribution<int> byte(0, 255), cls(0, 13);
  for (int i = 0; i < batch; ++i) {
    data::Sample s;
    s.index = i, s.width = width, s.height = height;
    s.rgb.resize(static_cast<size_t>(width) * height * 3);
    s.classes.resize(static_cast<size_t>(width) * height);
    for (auto& v : s.rgb) v = static_cast<std::uint8_t>(byte(gen));
    for (auto& v : s.classes) v = static_cast<std::uint8_t>(cls(gen));
    micro_.push_back(std::move(s));
  }
}

double TrainStep::run(dist::GradientReducer* reducer) {
  auto& phase = stage_.phases()[0];
  const auto t0 = std::chrono::steady_clock::now();
  train::set_learning_rate(*phase.optimizer, stage_.lr(0, step_, kScheduleSteps));
  phase.optimizer->zero_grad();
  if (reducer) reducer->set_sync(true);
  auto l = stage_.loss(0, micro_);
  l.total.backward();
  if (reducer) reducer->finish();
  phase.optimizer->step();
  if (device_.is_cuda()) torch::cuda::synchronize();
  ++step_;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sdn::cli::bench

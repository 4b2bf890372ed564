// Implements the benchmarks' training step (see bench_train_step.hpp).
#include "cli/bench_train_step.hpp"

#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "core/error.hpp"
#include "data/synth.hpp"
#include "train/stage_registry.hpp"

namespace sdn::cli::bench {
namespace {

// The original's schedule length (100 epochs x 5000 iterations): the poly rate stays ~lr over a benchmark.
constexpr std::int64_t kScheduleSteps = 500000;

// For stages that read instances or objects: consistent frames of `sdn synth` (classes, instances, depth, the
// /objects rows, intrinsics), each sample naming the frame's vehicle with the most pixels, as an object-item
// stage (the derenderer) is served; frame stages ignore `object`.
std::vector<data::Sample> synthetic_scenes(int batch, int height, int width, std::uint64_t seed) {
  data::SynthOptions o;
  o.width = width, o.height = height, o.seed = seed;
  std::vector<data::Sample> out;
  for (int index = 0; index < 16 * batch && static_cast<int>(out.size()) < batch; ++index) {
    auto f = data::synth_frame(o, "0001", "clone", index, 0);
    int best = -1;
    std::int64_t best_pixels = 0;
    for (size_t r = 0; r < f.objects.size(); ++r) {
      const int id = f.objects[r].track_id + 1;
      const auto n = std::count(f.instance.begin(), f.instance.end(), static_cast<std::uint16_t>(id));
      if (n > best_pixels) best = static_cast<int>(r), best_pixels = n;
    }
    if (best < 0) continue;
    data::Sample s;
    s.index = index, s.item = static_cast<std::int64_t>(out.size()), s.object = best;
    s.width = f.width, s.height = f.height;
    s.rgb = std::move(f.rgb), s.classes = std::move(f.classes), s.instance = std::move(f.instance);
    s.depth = std::move(f.depth), s.objects = std::move(f.objects), s.K = f.K;
    out.push_back(std::move(s));
  }
  if (static_cast<int>(out.size()) < batch)
    throw Error("bench: " + std::to_string(16 * batch) + " synthetic " + std::to_string(width) + "x" +
                    std::to_string(height) + " frames showed only " + std::to_string(out.size()) + " vehicle(s)",
                "use larger frames (--height, --width)");
  return out;
}

// bench/maskrcnn_step.py's pixel hash (uint32 arithmetic): the Python half builds the same frames bit for bit.
std::uint32_t pixel_hash(std::uint32_t index, std::uint32_t y, std::uint32_t x, std::uint32_t channel) {
  std::uint32_t h = (x * 73856093u) ^ (y * 19349663u) ^ (index * 83492791u + channel * 2654435761u);
  return (h * 73244475u) >> 13;
}

// A frame for a stage that reads instance planes (Mask R-CNN): hashed RGB and class ids 0..13, and a grid of up
// to 100 car/van squares of width / 31 pixels as instances 1..N (bench/maskrcnn_step.py vehicle_rects, the same
// formula): enough vehicles that an untrained RPN's proposals hit some, so the heads get RoIs to work on.
data::Sample vehicle_frame(int index, int width, int height) {
  data::Sample s;
  s.index = index, s.item = index, s.width = width, s.height = height;
  const size_t n = static_cast<size_t>(width) * height;
  s.rgb.resize(n * 3);
  s.classes.resize(n);
  s.instance.assign(n, 0);
  const auto i = static_cast<std::uint32_t>(index);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t p = static_cast<size_t>(y) * width + x;
      const auto uy = static_cast<std::uint32_t>(y), ux = static_cast<std::uint32_t>(x);
      for (std::uint32_t c = 0; c < 3; ++c)
        s.rgb[p * 3 + c] = static_cast<std::uint8_t>(pixel_hash(i, uy, ux, c) % 256);
      s.classes[p] = static_cast<std::uint8_t>(pixel_hash(i, uy, ux, 3) % 14);
    }
  const int cell = std::max(8, width / 31), step = cell + cell / 5;
  int k = 0;
  for (int y0 = 0; y0 + cell <= height; y0 += step)
    for (int x0 = (index * 7) % step; x0 + cell <= width && k < 100; x0 += step, ++k) {
      const std::uint8_t cls = k % 3 == 2 ? 12 : 2;  // Van : Car
      for (int y = y0; y < y0 + cell; ++y)
        for (int x = x0; x < x0 + cell; ++x) {
          const size_t p = static_cast<size_t>(y) * width + x;
          s.classes[p] = cls;
          s.instance[p] = static_cast<std::uint16_t>(k + 1);
        }
    }
  return s;
}

}  // namespace

TrainStep::TrainStep(const train::TrainConfig& config, torch::Device device, int batch, int height, int width,
                     dist::CrossRankSum sum, const dist::Communicator* comm, dist::ReducerOptions reducer)
    : device_(device), stage_(train::make_stage(config, {device, std::move(sum)})) {
  stage_->enter_schedule(0, kScheduleSteps);
  runner_ = std::make_unique<train::StepRunner>(*stage_, comm, std::move(reducer));
  // The input each stage's Python half rebuilds: Mask R-CNN's vehicle grid (bench/maskrcnn_step.py), seeded random
  // frames (semantic, textural); the derenderer has no Python half and needs real objects: `sdn synth` scenes.
  if (config.stage == "derender") {
    micro_.push_back(synthetic_scenes(batch, height, width, static_cast<std::uint64_t>(config.train.seed)));
    return;
  }
  std::mt19937 gen(static_cast<std::uint32_t>(config.train.seed));
  std::uniform_int_distribution<int> byte(0, 255), cls(0, 13);
  std::vector<data::Sample> samples;
  const bool vehicles = config.stage == "maskrcnn";
  for (int i = 0; vehicles && i < batch; ++i) samples.push_back(vehicle_frame(i, width, height));
  for (int i = 0; !vehicles && i < batch; ++i) {
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

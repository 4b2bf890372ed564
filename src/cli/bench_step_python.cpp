// `sdn bench step` vs Python: the C++ step (bench::TrainStep, the loop's own step) against bench/<stage>_step.py
// in one run. Blocks of C++ steps alternate with blocks of Python steps, so a change of machine load hits both;
// the per-block ratios and each side's peak resident memory are printed too. --original DIR adds a third side
// (the ORIGINAL 3D-SDN module definitions from a checkout, bench/semantic_original.py); --profile N prints a
// per-op profile of N steps of every side instead. The Mask R-CNN half also gets the stage's [maskrcnn] keys
// and the C++ model's initial weights.
#include <torch/cuda.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/bench_profile.hpp"
#include "cli/bench_stats.hpp"
#include "cli/bench_step.hpp"
#include "cli/bench_support.hpp"
#include "cli/bench_train_step.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "models/semantic_batch.hpp"
#include "models/weights_io.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/maskrcnn_options.hpp"
#include "train/stages/maskrcnn_stage.hpp"

namespace sdn::cli::bench {
namespace {

torch::Device device_of(const BenchStepConfig& c) {
  if (c.device == "cpu") return torch::kCPU;
  if (!torch::cuda::is_available())
    throw UsageError("--device cuda: this build's LibTorch sees no CUDA device",
                     "build with a CUDA LibTorch (-DSDN_WITH_CUDA=ON, see bench/gpu-check.sh) on a GPU machine");
  return {torch::kCUDA, 0};
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// One Python process of the comparison: our transcription, or the original's modules from a checkout.
struct PythonSide {
  std::string label;
  std::unique_ptr<bench::Child> child;
  nlohmann::json info;
  std::vector<double> times, ratios;
};

// The Mask R-CNN half's model and step keys: the stage's [maskrcnn] values at the benchmark's first step (schedule
// part 0), and the C++ model's initial weights (`weights`), so both sides see the same proposals and RoIs.
std::vector<std::string> maskrcnn_argv(const BenchStepConfig& c, const std::string& weights) {
  const auto& o = train::stage_options<train::MaskRcnnStageOptions>(c.train);
  std::string scales;
  for (int s : o.anchor_scales) scales += (scales.empty() ? "" : ",") + std::to_string(s);
  auto num = [](double v) { return fmt("%.17g", v); };
  return {"--resnet", std::to_string(o.resnet), "--image-size", std::to_string(o.image_size), "--anchor-scales", scales,
          "--rpn-anchors", std::to_string(o.rpn_train_anchors_per_image), "--pre-nms", std::to_string(o.pre_nms_limit),
          "--post-nms", std::to_string(o.post_nms_rois_training), "--rois", std::to_string(o.train_rois_per_image),
          "--max-gt", std::to_string(o.max_gt_instances), "--min-pixels", std::to_string(o.min_instance_pixels),
          "--bn-init", o.bn_init, "--layers", o.layers.front(), "--lr", num(o.part_rates().front()),
          "--transfer-lr", num(o.transfer_lr), "--momentum", num(o.momentum), "--weight-decay", num(o.weight_decay),
          "--clip", num(o.clip_norm), "--weights", weights};
}

// Files the Python half reads, alive as long as it runs: the Mask R-CNN stage's initial weights.
struct PythonInputs {
  std::unique_ptr<ScratchDir> dir;
  std::string weights;
};

PythonInputs python_inputs(const BenchStepConfig& c) {
  PythonInputs in;
  if (c.train.stage != "maskrcnn") return in;
  in.dir = std::make_unique<ScratchDir>("/tmp", "sdn-bench-step-");
  in.weights = in.dir->path() + "/maskrcnn-init.h5";
  auto stage = train::make_stage(c.train, {});
  models::export_weights(*stage->modules().front().second, stage->weights_name("model"), in.weights);
  return in;
}

// This process's peak resident set (VmHWM) in MB, 0 if /proc cannot tell.
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

std::vector<std::string> python_argv(const BenchStepConfig& c, const std::string& script, bool original,
                                     const PythonInputs& in) {
  std::vector<std::string> argv = {c.python, script, "--model", python_model(c), "--batch", std::to_string(c.batch),
                                   "--height", std::to_string(c.height), "--width", std::to_string(c.width),
                                   "--threads", std::to_string(c.threads), "--warmup", std::to_string(c.warmup),
                                   "--seed", std::to_string(c.train.train.seed), "--device",
                                   c.device == "cuda" ? "cuda:0" : "cpu"};
  // The stage's resolved keys, so that a Python half builds the same nets (bench/textural_step.py reads them).
  argv.push_back("--stage-config");
  argv.push_back(train::train_schema(c.train.stage).to_ini(c.train));
  if (original) {
    for (const auto& a : {std::string("--original"), c.original, std::string("--original-bn"), c.original_bn})
      argv.push_back(a);
  }
  if (c.train.stage == "maskrcnn")
    for (auto& a : maskrcnn_argv(c, in.weights)) argv.push_back(std::move(a));
  return argv;
}

void check_original(const std::string& dir) {
  for (const char* f : {"semantic/models.py", "semantic/resnet.py", "semantic/lib/nn/modules/batchnorm.py"})
    if (!std::filesystem::exists(dir + "/" + f))
      throw UsageError("--original " + dir + ": no " + f + " there",
                       "give the root of a ysymyth/3D-SDN clone (git clone https://github.com/ysymyth/3D-SDN)");
}

// Milliseconds of the semantic batch conversion (8-bit frames to the normalised BGR tensor and the 1/8 label
// grid) at the benchmark's size: the step's only work outside ATen ops, so the profiler does not see it.
double batch_conversion_ms(const BenchStepConfig& c) {
  std::vector<std::uint8_t> rgb(static_cast<size_t>(c.height) * c.width * 3, 128), classes(rgb.size() / 3, 5);
  std::vector<models::SemanticImage> views(c.batch, {c.height, c.width, rgb.data(), classes.data()});
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto batch = models::make_semantic_batch(views);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return bench::median(ms);
}

// --profile: the per-op profile of each side, one after the other (C++ first), nothing timed side by side.
int profile_sides(const BenchStepConfig& c, const std::string& script, torch::Device device, const PythonInputs& in) {
  torch::set_num_threads(c.threads);
  {
    bench::TrainStep cpp(c.train, device, c.batch, c.height, c.width, {});
    for (int i = 0; i < c.warmup; ++i) cpp.run();
    std::vector<double> times;
    const auto table = bench::profile_ops([&] {
      for (int i = 0; i < c.profile; ++i) times.push_back(cpp.run());
    }, 40);
    std::string t;
    for (double x : times) t += fmt(" %.3f", x);
    std::printf("## C++ (sdn), %d profiled steps:%s s\n%s", c.profile, t.c_str(), table.c_str());
    if (c.train.stage == "semantic")
      std::printf("batch conversion (models::make_semantic_batch, not an op), median of 5: %.1f ms\n",
                  batch_conversion_ms(c));
    std::printf("\n");
    std::fflush(stdout);
  }
  for (bool original : {false, true}) {
    if ((original && c.original.empty()) || script.empty()) continue;
    auto argv = python_argv(c, script, original, in);
    argv.push_back("--profile");
    argv.push_back(std::to_string(c.profile));
    const auto r = bench::run_timed(argv);
    const std::string label = original ? "the original's modules (" + c.original + ")" : script;
    std::printf("## Python, %s\n%s\n", label.c_str(), r.output.c_str());
    if (r.exit_code != 0)
      throw Error(script + ": the profile run failed (exit code " + std::to_string(r.exit_code) + ")");
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace

// The model name the Python half builds (the weights name of the stage's first module, e.g. the arch).
std::string python_model(const BenchStepConfig& c) {
  auto stage = train::make_stage(c.train, {});
  return stage->weights_name(stage->modules().front().first);
}

int compare_python(const BenchStepConfig& c, const Args& args) {
  const auto device = device_of(c);
  // A stage without a Python twin (e.g. the derenderer: its renderer has no PyTorch counterpart here) is timed
  // on the C++ side alone, unless --script names one.
  std::string script;
  try {
    script = bench::source_file("bench/" + c.train.stage + "_step.py", c.script, "script");
  } catch (const UsageError&) {
    if (!c.script.empty() || !c.original.empty()) throw;
  }
  if (!c.original.empty()) check_original(c.original);
  const std::string model = python_model(c);
  std::printf("# %s\n# %s, batch %d of %dx%d, %d thread%s, %s; %d rounds x %d timed steps per side "
              "(after %d warm-up)\n",
              bench::command_line("sdn bench step", args).c_str(), model.c_str(), c.batch, c.height, c.width,
              c.threads, c.threads == 1 ? "" : "s", c.device.c_str(), c.rounds, c.steps, c.warmup);
  if (script.empty()) std::printf("# no bench/%s_step.py: the C++ step alone\n", c.train.stage.c_str());
  const PythonInputs inputs = python_inputs(c);
  if (c.profile > 0) return profile_sides(c, script, device, inputs);
  const std::string load_before = bench::load_note();
  std::fflush(stdout);

  // The Python sides first, one at a time: their start-up and warm-up must not overlap ours or each other's.
  std::vector<PythonSide> sides;
  for (bool original : {false, true}) {
    if ((original && c.original.empty()) || script.empty()) continue;
    bench::ChildOptions po;
    po.pipe_stdin = po.pipe_stdout = true;
    PythonSide side;
    side.label = original ? "the original 3D-SDN modules (" + c.original + ", BN " + c.original_bn + ")" : script;
    side.child = std::make_unique<bench::Child>(python_argv(c, script, original, inputs), po);
    const std::string ready = side.child->read_line();
    if (ready.rfind("ready ", 0) != 0) throw Error(script + ": unexpected first line '" + ready + "'");
    side.info = nlohmann::json::parse(ready.substr(6));
    sides.push_back(std::move(side));
  }

  torch::set_num_threads(c.threads);
  bench::TrainStep cpp(c.train, device, c.batch, c.height, c.width, {});
  for (int i = 0; i < c.warmup; ++i) cpp.run();

  std::vector<double> t_cpp;
  const int n_sides = 1 + static_cast<int>(sides.size());
  for (int r = 0; r < c.rounds; ++r) {
    std::vector<double> rc;
    std::vector<std::vector<double>> rp(sides.size());
    auto run_side = [&](int k) {
      if (k == 0) {
        for (int i = 0; i < c.steps; ++i) rc.push_back(cpp.run());
        return;
      }
      auto& py = *sides[k - 1].child;
      py.write_line("steps " + std::to_string(c.steps));
      const auto reply = nlohmann::json::parse(py.read_line());
      if (reply.contains("error")) throw Error(script + ": " + reply["error"].get<std::string>());
      rp[k - 1] = reply.at("times").get<std::vector<double>>();
      for (const char* key : {"peak_rss_mb", "rois_per_image"})
        if (reply.contains(key)) sides[k - 1].info[key] = reply[key];
    };
    // Rotate which side goes first, so none always follows another's cache and frequency state.
    for (int k = 0; k < n_sides; ++k) run_side((r + k) % n_sides);
    t_cpp.insert(t_cpp.end(), rc.begin(), rc.end());
    for (size_t k = 0; k < sides.size(); ++k) {
      sides[k].times.insert(sides[k].times.end(), rp[k].begin(), rp[k].end());
      sides[k].ratios.push_back(bench::median(rp[k]) / bench::median(rc));
    }
  }
  for (auto& side : sides) {
    side.child->write_line("quit");
    side.child->wait();
  }
  const std::string load_after = bench::load_note();
  const double cpp_peak = peak_rss_mb();

  const double mc = bench::median(t_cpp);
  std::printf("# %s before, %s after\n", load_before.c_str(), load_after.c_str());
  std::printf("| implementation | step s (median) | min | s per image | images/s | time vs C++ |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::printf("| C++ LibTorch %d.%d (sdn: the %s stage's step) | %.3f | %.3f | %.3f | %.3f "
              "| 1.00 |\n",
              TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, c.train.stage.c_str(), mc, bench::minimum(t_cpp), mc / c.batch,
              c.batch / mc);
  for (const auto& side : sides) {
    const double mp = bench::median(side.times);
    const int py_threads = side.info.value("threads", 0);
    std::printf("| Python PyTorch %s (%s, %d thread%s) | %.3f | %.3f | %.3f | %.3f | %.2f |\n",
                side.info.value("torch", std::string("?")).c_str(), side.label.c_str(), py_threads,
                py_threads == 1 ? "" : "s", mp, bench::minimum(side.times), mp / c.batch, c.batch / mp, mp / mc);
  }
  for (const auto& side : sides) {
    std::string per_round;
    for (double x : side.ratios) per_round += fmt(" %.2f", x);
    std::printf("Python/C++ step-time ratio per round, %s:%s (median %.2f; > 1: C++ faster)\n", side.label.c_str(),
                per_round.c_str(), bench::median(side.ratios));
  }
  // Peak resident memory of each process over its whole run (model, optimiser state, the step's activations).
  std::printf("Peak RSS: C++ %.0f MB", cpp_peak);
  for (const auto& side : sides)
    if (side.info.contains("peak_rss_mb")) std::printf(", Python %.0f MB", side.info["peak_rss_mb"].get<double>());
  std::printf(" (batch %d)\n", c.batch);
  // What each side trains and (Mask R-CNN) how many RoIs its heads saw: the two must do the same work.
  std::int64_t trainable = 0;
  for (auto& phase : cpp.stage().phases())
    for (auto& [name, p] : phase.params) trainable += p.numel();
  std::printf("Trainable parameters: C++ %lld", static_cast<long long>(trainable));
  for (const auto& side : sides)
    if (side.info.contains("trainable_params"))
      std::printf(", Python %lld", static_cast<long long>(side.info["trainable_params"].get<std::int64_t>()));
  std::printf("\n");
  if (auto* m = dynamic_cast<train::MaskRcnnStage*>(&cpp.stage())) {
    std::printf("RoIs per image in the last step: C++ %s", nlohmann::json(m->last_rois()).dump().c_str());
    for (const auto& side : sides)
      if (side.info.contains("rois_per_image")) std::printf(", Python %s", side.info["rois_per_image"].dump().c_str());
    std::printf("\n");
  }
  return kExitOk;
}


}  // namespace sdn::cli::bench

// `sdn bench step`: seconds per training step (and per image) of a stage's model, this trainer's step (the
// stage built from its config through the registry, stepped by train/step_runner as `sdn train` steps it) vs
// the same model in Python PyTorch (bench/<stage>_step.py), in one run. Blocks of C++ steps alternate with
// blocks of Python steps, so a change of machine load hits both; the per-block ratios are printed too.
// --original DIR adds a third side: the ORIGINAL 3D-SDN module definitions imported from a checkout
// (bench/semantic_original.py); --profile N prints a per-op profile of N steps of every side instead.
// --ranks-compare instead measures images/s of 1 vs N ranks (mpirun, gradient reducer, SyncBN) at the same
// global batch and the same total thread count.
#include <mpi.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/bench_profile.hpp"
#include "cli/bench_stats.hpp"
#include "cli/bench_support.hpp"
#include "cli/bench_train_step.hpp"
#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "dist/abort.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_check.hpp"
#include "dist/mpi_reducer.hpp"
#include "dist/mpi_session.hpp"
#include "dist/reducer_factory.hpp"
#include "models/semantic_batch.hpp"
#include "train/stage_registry.hpp"

namespace sdn::cli {
namespace {

struct BenchStepConfig {
  train::TrainConfig train;  // the stage and its model, as `sdn train` reads them (--config STAGE.ini, --model.arch)
  int batch = 2;     // the reference's measured point: batch 2, 152x496, 2 threads
  int height = 152;
  int width = 496;
  int threads = 2;
  int steps = 2;     // timed steps per block
  int rounds = 3;    // blocks per implementation, alternating
  int warmup = 1;
  std::string device = "cpu";
  std::string python = "/usr/bin/python3";
  std::string script;  // default: the source tree's bench/<stage>_step.py
  std::string original;  // a ysymyth/3D-SDN checkout: also time its own module definitions
  std::string original_bn = "native";
  int profile = 0;  // > 0: profile this many steps per side instead of timing
  bool ranks_compare = false;
  int ranks = 2;
  std::string mpirun = "mpirun";
  std::string mpi_progress = "auto";  // the MPI reducer's progress mode (auto: a thread when MPI allows)
  bool rank_worker = false;  // internal: one side of --ranks-compare, run under mpirun
};

opt::Schema<BenchStepConfig> schema(const Args& args) {
  using C = BenchStepConfig;
  opt::Schema<C> s("bench step", "Train-step time of a stage's model (--config STAGE.ini, --model.arch, ...): C++ "
                                 "(this trainer) vs Python PyTorch.");
  s.add("batch", "images per step (global batch with --ranks-compare)", [](C& c) -> auto& { return c.batch; },
           opt::Range{1, 1024})
      .add("height", "input height (multiple of 8)", [](C& c) -> auto& { return c.height; }, opt::Range{8, 4096})
      .add("width", "input width (multiple of 8)", [](C& c) -> auto& { return c.width; }, opt::Range{8, 4096})
      .add("threads", "intra-op threads (both sides; total over ranks with --ranks-compare)",
           [](C& c) -> auto& { return c.threads; }, opt::Range{1, 256})
      .add("steps", "timed steps per block", [](C& c) -> auto& { return c.steps; }, opt::Range{1, 1000})
      .add("rounds", "blocks per implementation (alternating C++ and Python)", [](C& c) -> auto& { return c.rounds; },
           opt::Range{1, 1000})
      .add("warmup", "untimed steps first, per implementation", [](C& c) -> auto& { return c.warmup; },
           opt::Range{0, 100})
      .add("device", "cpu or cuda (GPU 0)", [](C& c) -> auto& { return c.device; }, opt::Choices{"cpu", "cuda"})
      .add("python", "Python with torch (Debian's python3-torch: the same 1.13 as LibTorch)",
           [](C& c) -> auto& { return c.python; })
      .add("script", "the Python half (default: the source tree's bench/<stage>_step.py)",
           [](C& c) -> auto& { return c.script; })
      .add("original", "a ysymyth/3D-SDN checkout (DIR/semantic/models.py ...): also time the original modules",
           [](C& c) -> auto& { return c.original; })
      .add("original-bn", "the original's BN path: native (one device, as on CPU) or sync (its 2-GPU statistics)",
           [](C& c) -> auto& { return c.original_bn; }, opt::Choices{"native", "sync"})
      .add("profile", "instead of timing: per-op CPU profile of this many steps of each side (after warm-up)",
           [](C& c) -> auto& { return c.profile; }, opt::Range{0, 100})
      .add("ranks-compare", "instead: images/s of 1 vs --ranks ranks under mpirun (gradient reducer, SyncBN)",
           [](C& c) -> auto& { return c.ranks_compare; })
      .add("ranks", "rank count compared with 1 rank", [](C& c) -> auto& { return c.ranks; }, opt::Range{2, 64})
      .add("mpirun", "MPI launcher for --ranks-compare", [](C& c) -> auto& { return c.mpirun; })
      .add("mpi-progress", "MPI gradient reducer progress with --ranks-compare (auto = thread when MPI allows)",
           [](C& c) -> auto& { return c.mpi_progress; }, opt::Choices{"auto", "nonblocking", "thread"})
      .add("rank-worker", "(internal) one side of --ranks-compare", [](C& c) -> auto& { return c.rank_worker; });
  s.include(train::train_schema(train::stage_of_args(args)), [](C& c) -> train::TrainConfig& { return c.train; });
  return s;
}

std::vector<std::string> validate(const BenchStepConfig& c) {
  std::vector<std::string> e;
  if (c.height % 8 || c.width % 8) e.push_back("height, width: must be multiples of 8 (the model's output stride)");
  if (!c.original.empty() && c.train.stage != "semantic")
    e.push_back("original: only the semantic stage has an original to compare with");
  if (!c.original.empty() && c.ranks_compare) e.push_back("original: not with --ranks-compare");
  if (c.ranks_compare && c.device != "cpu") e.push_back("ranks-compare: CPU only (one machine, one GPU at most)");
  if (c.ranks_compare && c.batch % c.ranks) e.push_back("batch: must be divisible by --ranks for --ranks-compare");
  const int world = c.ranks_compare ? c.ranks : 1;
  if (!c.rank_worker && c.batch % world == 0) {
    // The stage's own per-world limits (e.g. BatchNorm on one sample) at the benchmark's batch split.
    auto t = c.train;
    t.train.global_batch = c.batch;
    t.train.per_rank_batch = c.batch / world;
    const auto& spec = train::stage_spec(t.stage);
    if (spec.validate)
      for (auto& p : spec.validate(t)) e.push_back(p);
    if (spec.validate_for_world)
      for (auto& p : spec.validate_for_world(t, world)) e.push_back("batch: " + p);
  }
  return e;
}

// The model name the Python half builds (the weights name of the stage's first module, e.g. the arch).
std::string python_model(const BenchStepConfig& c) {
  auto stage = train::make_stage(c.train, {});
  return stage->weights_name(stage->modules().front().first);
}

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

std::vector<std::string> python_argv(const BenchStepConfig& c, const std::string& script, bool original) {
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
int profile_sides(const BenchStepConfig& c, const std::string& script, torch::Device device) {
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
    auto argv = python_argv(c, script, original);
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
  if (c.profile > 0) return profile_sides(c, script, device);
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
    side.child = std::make_unique<bench::Child>(python_argv(c, script, original), po);
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
  return kExitOk;
}

// One side of --ranks-compare, under mpirun: every rank steps its share of the global batch; the reducer
// averages gradients and SyncBN spans the ranks, as in `sdn train`. Rank 0 prints one JSON line.
int rank_worker(const BenchStepConfig& c) {
  dist::MpiSession mpi;
  dist::Communicator comm;
  try {
    torch::set_num_threads(c.threads);
    const int per_rank = c.batch / comm.size();
    dist::ReducerOptions ro;
    ro.mpi_progress = dist::parse_mpi_progress(c.mpi_progress);
    bench::TrainStep step(c.train, torch::kCPU, per_rank, c.height, c.width,
                          comm.size() > 1 ? dist::make_cross_rank_sum(comm) : dist::CrossRankSum{}, &comm, ro);
    for (auto& [name, module] : step.stage().modules()) dist::broadcast_from_root(comm, dist::state_tensors(*module));
    std::vector<double> times;
    for (int i = 0; i < c.warmup + c.steps * c.rounds; ++i) {
      dist::barrier(comm);
      double t = step.run();
      SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm.comm()));
      if (i >= c.warmup) times.push_back(t);
    }
    if (comm.rank() == 0)
      std::printf("%s\n", nlohmann::json({{"ranks", comm.size()}, {"threads_per_rank", c.threads},
                                          {"per_rank_batch", per_rank}, {"median_s", bench::median(times)},
                                          {"min_s", bench::minimum(times)}})
                              .dump()
                              .c_str());
    return kExitOk;
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;
    dist::abort_job(e.what(), kExitFailure);
  }
}

int compare_ranks(const BenchStepConfig& c, const Args& args) {
  std::printf("# %s\n# %s, global batch %d of %dx%d, %d threads in total, %d timed steps per run (after %d warm-up)\n",
              bench::command_line("sdn bench step", args).c_str(), python_model(c).c_str(), c.batch, c.height, c.width,
              c.threads, c.steps * c.rounds, c.warmup);
  const std::string load_before = bench::load_note();
  std::fflush(stdout);
  // The workers read the resolved stage config from a file, so they build exactly this model.
  bench::ScratchDir scratch("/tmp", "sdn-bench-step-");
  const std::string stage_ini = scratch.path() + "/stage.ini";
  fs::write_atomic(stage_ini, train::train_schema(c.train.stage).to_ini(c.train));
  auto measure = [&](int ranks) {
    std::vector<std::string> argv = {c.mpirun};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    // No binding: Open MPI pins small jobs to one core each, which would starve a 1-rank run of its threads.
    for (const char* a : {"--oversubscribe", "--bind-to", "none", "-np"}) argv.push_back(a);
    argv.push_back(std::to_string(ranks));
    argv.push_back(bench::self_exe());
    for (const char* a : {"bench", "step", "--rank-worker"}) argv.push_back(a);
    const std::vector<std::pair<std::string, std::string>> opts = {
        {"config", stage_ini}, {"batch", std::to_string(c.batch)}, {"height", std::to_string(c.height)},
        {"width", std::to_string(c.width)}, {"threads", std::to_string(std::max(1, c.threads / ranks))},
        {"steps", std::to_string(c.steps)}, {"rounds", std::to_string(c.rounds)},
        {"warmup", std::to_string(c.warmup)}, {"mpi-progress", c.mpi_progress}};
    for (const auto& [k, v] : opts) argv.push_back("--" + k), argv.push_back(v);
    auto r = bench::run_timed(argv);
    std::string result;  // rank 0's JSON line (the last line that starts with '{')
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty() && line[0] == '{') result = line;
    if (r.exit_code != 0 || result.empty())
      throw Error("the " + std::to_string(ranks) + "-rank run failed (exit code " + std::to_string(r.exit_code) +
                  "):\n" + r.output, "run the same mpirun line by hand to see more");
    return nlohmann::json::parse(result);
  };
  // One launch per side: the model build and warm-up stay out of the timed steps.
  const auto one = measure(1);
  const auto many = measure(c.ranks);
  const std::string load_after = bench::load_note();
  std::printf("# %s before, %s after\n", load_before.c_str(), load_after.c_str());
  std::printf("| ranks x threads | batch per rank (global) | step s (median) | min | images/s | vs 1 rank |\n");
  std::printf("|---|---|---|---|---|---|\n");
  const double ips1 = c.batch / one["median_s"].get<double>();
  for (const auto* j : {&one, &many}) {
    const double med = (*j)["median_s"].get<double>();
    std::printf("| %d x %d | %d (%d) | %.3f | %.3f | %.3f | %.2f |\n", (*j)["ranks"].get<int>(),
                (*j)["threads_per_rank"].get<int>(), (*j)["per_rank_batch"].get<int>(), c.batch, med,
                (*j)["min_s"].get<double>(), c.batch / med, (c.batch / med) / ips1);
  }
  return kExitOk;
}

}  // namespace

int bench_step(const Args& args) {
  auto parsed = parse_command(schema(args), args, validate);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  log::init("warn");
  if (c.rank_worker) return rank_worker(c);
  return c.ranks_compare ? compare_ranks(c, args) : compare_python(c, args);
}

}  // namespace sdn::cli

// `sdn bench step`: seconds per training step (and per image) of a stage's model, this trainer's step (the
// stage built from its config through the registry, stepped by train/step_runner as `sdn train` steps it) vs
// the same model in Python PyTorch (bench/<stage>_step.py): that comparison is bench_step_python.cpp. This
// file owns the options and --ranks-compare, which instead measures images/s of 1 vs N ranks (mpirun,
// gradient reducer, SyncBN) at the same global batch and the same total thread count.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/bench_stats.hpp"
#include "cli/bench_step.hpp"
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
#include "train/stage_registry.hpp"

namespace sdn::cli {
namespace {

using bench::BenchStepConfig;

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
              bench::command_line("sdn bench step", args).c_str(), bench::python_model(c).c_str(), c.batch, c.height,
              c.width, c.threads, c.steps * c.rounds, c.warmup);
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
  return c.ranks_compare ? compare_ranks(c, args) : bench::compare_python(c, args);
}

}  // namespace sdn::cli

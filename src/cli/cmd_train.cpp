// `sdn train`: MPI session -> config -> run directory, lock and logs -> stage -> Trainer (train/loop.hpp).
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "ckpt/run_lock.hpp"
#include "cli/commands.hpp"
#include "cli/run_setup.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/journal.hpp"
#include "core/recipe_scaling.hpp"
#include "dist/collectives.hpp"
#include "slurm/scheduler.hpp"
#include "dist/watchdog.hpp"
#include "train/loop.hpp"
#include "train/stage_data.hpp"
#include "train/stage_registry.hpp"
#include "train/stop.hpp"

namespace sdn::cli {
namespace {

sigset_t g_stop_set;  // the configured stop signals (for the fork handler below)

// Delivers the stop signals to one idle thread only. They are blocked here, before MPI, the loader, the
// reducer or OpenMP start a thread (threads inherit the mask), and one catcher thread unblocks them and sleeps,
// so the flag-setting handler (train/stop.hpp) never interrupts a thread that computes. Why: a handler that
// interrupts vectorised code must be harmless, but on some virtual machines the AVX register state does not
// survive it (observed here: heap corruption inside oneDNN/ATen kernels of the same LibTorch, also from Python,
// gone with SSE-only kernels); and no other thread ever sees EINTR. Children (the MPI singleton's daemon, squeue)
// get the signals unblocked again.
void route_stop_signals_to_one_thread(const std::vector<std::string>& names) {
  sigemptyset(&g_stop_set);
  for (const auto& n : names)
    if (int sig = train::signal_number(n)) sigaddset(&g_stop_set, sig);
  if (int rc = pthread_sigmask(SIG_BLOCK, &g_stop_set, nullptr); rc != 0)
    throw Error("cannot block the stop signals: " + std::string(std::strerror(rc)));
  pthread_atfork(nullptr, nullptr, [] { pthread_sigmask(SIG_UNBLOCK, &g_stop_set, nullptr); });
  std::thread([] {
    pthread_sigmask(SIG_UNBLOCK, &g_stop_set, nullptr);
    for (;;) ::pause();  // returns after each handled signal
  }).detach();
}

// Test seam of the fault-injection tests (tests/integration/faults_kill9.sh): SDN_TEST_KILL_AT_PHASE=<phase>
// SIGKILLs the trainer at that phase of its first checkpoint write. Not a config key: no run.ini may carry it.
ckpt::WriteHook test_kill_hook() {
  const char* phase = std::getenv("SDN_TEST_KILL_AT_PHASE");
  if (!phase || !*phase) return {};
  const std::string wanted = phase;
  return [wanted](ckpt::WritePhase p) {
    if (wanted == ckpt::phase_name(p)) ::raise(SIGKILL);
  };
}

// train.scale_recipe: the recipe scaled to the world size, before anything reads it; run.ini then holds the scaled
// keys with scale_recipe = none, so a resume (even on another GPU count) trains the same recipe.
void apply_recipe_scaling(train::TrainConfig& cfg, int world) {
  recipe::Rule rule = recipe::Rule::kNone;
  recipe::parse_rule(cfg.train.scale_recipe, rule);
  if (rule == recipe::Rule::kNone) return;
  if (cfg.train.iterations_per_epoch <= 0)
    throw UsageError("train.scale_recipe needs train.iterations_per_epoch > 0 (the steps to scale)",
                     "set train.iterations_per_epoch, or scale with `sdn plan --scale-recipe`");
  const auto& spec = train::stage_spec(cfg.stage);
  if (!spec.recipe_knobs)
    throw UsageError("train.scale_recipe: stage '" + cfg.stage + "' does not support recipe scaling", "set it to none");
  const train::RecipeKnobs knobs = spec.recipe_knobs(cfg);
  recipe::Recipe base{cfg.train.epochs * cfg.train.iterations_per_epoch, cfg.train.global_batch,
                      cfg.train.per_rank_batch, *knobs.lr, *knobs.warmup_steps};
  const recipe::Recipe r = recipe::scale(base, world, rule);
  if (r.total_steps % cfg.train.epochs != 0) cfg.train.epochs = 1;
  cfg.train.iterations_per_epoch = r.total_steps / cfg.train.epochs;
  cfg.train.global_batch = r.global_batch;
  *knobs.lr = r.lr;
  *knobs.warmup_steps = r.warmup_steps;
  cfg.train.scale_recipe = "none";
  spdlog::info("recipe scaled to {} rank(s): {}", world, recipe::describe(base, r, rule));
}

}  // namespace

int run_train(const Args& args) {
  const double process_start = journal::now_seconds();
  auto parsed = parse_train_config(args);  // before MPI: --help and config errors need no launcher
  if (parsed.help) {
    std::fputs(parsed.usage.c_str(), stdout);
    return kExitOk;
  }
  train::TrainConfig cfg = parsed.config;
  // First thing after parsing: a USR2/TERM that arrives during MPI start-up or data loading must set the
  // flag, not kill the process with the default action.
  // Never destroyed (no handler restored): a signal during the teardown after the stop checkpoint (MPI
  // finalisation) must not turn exit code 3 into a death by signal.
  new train::SignalFlag(cfg.stop.signals);  // NOLINT: deliberately lives until the process exits
  route_stop_signals_to_one_thread(cfg.stop.signals);
  dist::MpiSession mpi;
  dist::Communicator comm;
  // The job script's chunk-end reads this to say why the chunk failed (`sdn status`).
  auto journal_failure = [&](const std::string& message) {
    auto e = journal::make(journal::kind::kTrainEnd);
    e["reason"] = "error";
    e["message"] = message;
    e["rank"] = comm.rank();
    journal::append(journal::path_in(cfg.run_dir), e);
  };
  // A collective stuck past dist.timeout_seconds ends the job (exit 4) and says why in the journal, instead of
  // waiting for the time limit.
  dist::WatchdogOptions watch;
  watch.timeout_seconds = cfg.dist.timeout_seconds;
  watch.before_abort = journal_failure;
  dist::WatchdogInstall watchdog(watch);
  return run_collectively(comm, [&] {
    apply_recipe_scaling(cfg, comm.size());
    if (comm.rank() == 0) write_run_ini(cfg);
    init_run_logging(cfg, "train");
    if (auto problems = train::validate_for_world(cfg, comm.size()); !problems.empty()) {
      std::string msg = "invalid configuration for " + std::to_string(comm.size()) + " rank(s):";
      for (const auto& p : problems) msg += "\n  - " + p;
      throw UsageError(msg, "change train.global_batch / train.per_rank_batch or the number of ranks");
    }
    torch::set_num_threads(cfg.train.threads);
    train::TrainEnv env;
    env.code_version = SDN_VERSION;
    env.deadline = job_deadline(cfg, env.job_id);
    env.process_start = process_start;
    env.write_hook = test_kill_hook();
    // $USER, $SLURM_JOB_ID, ... of data.stage_to (run.ini keeps them unexpanded).
    env.stage_to = train::expand_variables(cfg.data.stage_to, [](const std::string& name) { return std::getenv(name.c_str()); });

    std::unique_ptr<ckpt::RunLock> lock;
    if (comm.rank() == 0) {
      ckpt::LockOwner me{process_identity().host, static_cast<int>(::getpid()), env.job_id, ""};
      auto job_alive = [](const std::string& job) {
        try {
          auto q = slurm::squeue_jobs({job});
          return !q.empty() && (q.front().state == "RUNNING" || q.front().state == "COMPLETING");
        } catch (const std::exception&) {
          return true;  // cannot ask: assume alive rather than risk two writers
        }
      };
      lock = std::make_unique<ckpt::RunLock>(cfg.run_dir, me, ckpt::default_owner_alive(job_alive));
      if (lock->took_over_stale())
        spdlog::warn("took over a stale lock of pid {} on {} (job {})", lock->previous_owner().pid,
                     lock->previous_owner().host, lock->previous_owner().job_id);
    }

    auto device = pick_device(cfg, comm);
    auto stage = train::make_stage(cfg, stage_context(device, comm));
    if (comm.rank() == 0)
      spdlog::info("training {} ({}) on {} rank(s), device {}, global batch {} = {} x {} x {} micro-batch(es)", cfg.stage,
                   stage->weights_name(stage->modules().front().first), comm.size(), device.str(),
                   cfg.train.global_batch, comm.size(), cfg.train.per_rank_batch,
                   cfg.train.global_batch / (comm.size() * cfg.train.per_rank_batch));
    train::Trainer trainer(cfg, *stage, comm, env);
    return trainer.run().exit_code;
  }, journal_failure);
}

}  // namespace sdn::cli

// Implements the stop-latency measurement (see bench_stop_latency.hpp).
#include "cli/bench_stop_latency.hpp"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "cli/bench_support.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"

namespace sdn::cli::bench {
namespace {

std::string tail_of(const std::string& path, size_t bytes = 3000) {
  try {
    auto text = fs::read_file(path);
    return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
  } catch (const std::exception&) {
    return "(no log)";
  }
}

// Newest event of `kind` in the run's journal, or null.
journal::Event last_event(const std::string& run_dir, const char* kind) {
  journal::Event found;
  for (const auto& e : journal::read(journal::path_in(run_dir)).events)
    if (journal::string_or(e, "event", "") == kind) found = e;
  return found;
}

StopTrial one_trial(const StopLatencyOptions& o, int trial, std::mt19937& gen) {
  const std::string run = o.scratch + "/run-" + std::to_string(trial);
  const std::string log = o.scratch + "/train-" + std::to_string(trial) + ".log";
  auto argv = o.train_argv;
  argv.push_back("--run-dir");
  argv.push_back(run);
  ChildOptions co;
  co.log_file = log;
  co.unset_env = {"SLURM_JOB_ID"};  // no Slurm deadline: only our signal stops it
  Child trainer(argv, co);
  auto fail = [&](const std::string& why) {
    return Error("stop-latency trial " + std::to_string(trial + 1) + ": " + why + "\n--- " + log + " ---\n" +
                     tail_of(log),
                 "run the trainer by hand with the same options to see more");
  };

  // Wait for the first completed step (progress events are journalled each step: log_every = 1).
  const auto t_start = std::chrono::steady_clock::now();
  journal::Event progress;
  for (;;) {
    if (trainer.exited())
      throw fail("the trainer exited (code " + std::to_string(trainer.exit_code()) + ") before its first step");
    progress = last_event(run, journal::kind::kProgress);
    if (!progress.is_null() && journal::int_or(progress, "step", 0) >= 1) break;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() > o.start_timeout_seconds)
      throw fail("no step reported within " + std::to_string(static_cast<int>(o.start_timeout_seconds)) + " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  StopTrial t;
  const double ips = journal::number_or(progress, "images_per_s", 0);
  t.step_seconds = ips > 0 ? o.global_batch / ips : 0;
  // The signal lands at a uniformly random moment of a step, as a Slurm signal would.
  std::uniform_real_distribution<double> phase(0.0, 1.0);
  std::this_thread::sleep_for(std::chrono::duration<double>(phase(gen) * t.step_seconds));

  const auto t0 = std::chrono::steady_clock::now();
  trainer.send_signal(SIGUSR2);
  const int code = trainer.wait();
  t.latency_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (code != kExitResumable) throw fail("exit code " + std::to_string(code) + " after SIGUSR2 (expected 3)");
  auto ck = last_event(run, journal::kind::kCheckpoint);
  if (ck.is_null()) throw fail("exit code 3 but no checkpoint event in the journal");
  t.checkpoint_seconds = journal::number_or(ck, "seconds", 0);
  t.step = journal::int_or(ck, "step", 0);
  std::error_code ec;
  std::filesystem::remove_all(run, ec);
  std::filesystem::remove(log, ec);
  return t;
}

}  // namespace

std::vector<StopTrial> measure_stop_latency(const StopLatencyOptions& o) {
  std::mt19937 gen(static_cast<std::uint32_t>(o.seed));
  std::vector<StopTrial> out;
  for (int i = 0; i < o.trials; ++i) out.push_back(one_trial(o, i, gen));
  return out;
}

}  // namespace sdn::cli::bench

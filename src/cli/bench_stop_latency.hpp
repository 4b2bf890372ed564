// Signal-to-exit latency of `sdn train`: start a trainer, wait until it is stepping, send SIGUSR2 at a random
// moment within a step, and time until the process is gone (it must exit 3: stopped with a valid checkpoint).
// The journal's checkpoint event says how much of that time was the save itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::cli::bench {

struct StopTrial {
  double latency_seconds = 0;     // SIGUSR2 sent -> process reaped
  double checkpoint_seconds = 0;  // the save the stop triggered (journal "checkpoint" event, rank 0)
  double step_seconds = 0;        // the trainer's step time before the signal (journal progress)
  std::int64_t step = 0;          // step it stopped at
};

struct StopLatencyOptions {
  std::vector<std::string> train_argv;  // full argv of the trainer, without --run-dir
  std::string scratch;                  // run dirs and logs go below this (one per trial, removed after)
  int trials = 5;
  int global_batch = 2;                 // the trainer's train.global_batch (images per step)
  std::uint64_t seed = 304;             // seeds the signal's moment within the step
  double start_timeout_seconds = 900;   // start-up until the first step is reported
};

// Runs the trials one after another. Throws Error (with the trainer's log tail) when a trainer fails, does not
// report a step in time, or exits with anything but 3.
std::vector<StopTrial> measure_stop_latency(const StopLatencyOptions& options);

}  // namespace sdn::cli::bench

// `sdn bench step`'s options and the pieces its two modes share: the Python comparison (bench_step_python.cpp:
// C++ step vs bench/<stage>_step.py, blocks alternating) and the rank comparison (bench_step.cpp).
#pragma once

#include <torch/torch.h>

#include <string>

#include "cli/commands.hpp"
#include "train/config.hpp"

namespace sdn::cli::bench {

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

// The model name the Python half builds (the weights name of the stage's first module, e.g. the arch).
std::string python_model(const BenchStepConfig& c);

// The C++ step vs the Python one(s), or with --profile their per-op profiles. Prints a Markdown table.
int compare_python(const BenchStepConfig& c, const Args& args);

}  // namespace sdn::cli::bench

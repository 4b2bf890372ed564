// The subcommands of `sdn`: each takes the arguments after its name and returns an exit code
// (core/exit_codes.hpp). One file per command family wires config -> components; no logic lives here.
#pragma once

#include <string>
#include <vector>

#include "slurm/run_dir.hpp"

namespace sdn::cli {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

// Every command, in the order `sdn --help` lists them.
const std::vector<Command>& commands();

int run_synth(const Args& args);   // cmd_synth.cpp
int run_pack(const Args& args);    // cmd_pack.cpp
int run_bench(const Args& args);   // cmd_bench.cpp: dispatches to the bench_* functions below
// Training (sdn_train): MPI-launched, share cli/run_setup.hpp.
int run_train(const Args& args);    // cmd_train.cpp
int run_eval(const Args& args);     // cmd_eval.cpp
int run_predict(const Args& args);  // cmd_predict.cpp
int run_edit(const Args& args);     // cmd_edit.cpp: 3D-aware editing (derender predictions + a textural run)
int run_ckpt(const Args& args);     // cmd_ckpt.cpp: inspect / verify
// Slurm driver (sdn_slurm): planning, run management, job-script bookkeeping, the embedded cluster.
int run_plan(const Args& args);     // cmd_plan.cpp
// What `sdn plan ARGS` would choose, computed without printing or writing (`sdn pipeline estimate`).
struct PlannedStage {
  slurm::RunPlan plan;
  std::string source;                // where the throughput came from
  std::vector<std::string> notes;
};
PlannedStage plan_estimate(const Args& args);  // cmd_plan.cpp
int run_pipeline(const Args& args); // cmd_pipeline.cpp: plan | submit | status | cancel | gate | estimate
int run_submit(const Args& args);   // cmd_run.cpp
int run_status(const Args& args);   // cmd_run.cpp
int run_cancel(const Args& args);   // cmd_run.cpp
int run_journal(const Args& args);  // cmd_journal.cpp: used by the generated job scripts
int run_cluster(const Args& args);  // cmd_cluster.cpp
int run_weights(const Args& args);  // cmd_weights.cpp: export/import of semantic model weights (HDF5)

// Benchmarks (`sdn bench NAME`), one file each.
int bench_loader(const Args& args);  // bench_loader.cpp
int bench_reduce(const Args& args);  // bench_reduce.cpp
int bench_step(const Args& args);    // bench_step.cpp
int bench_ckpt(const Args& args);    // bench_ckpt.cpp
int bench_chain(const Args& args);   // bench_chain.cpp
int bench_render(const Args& args);  // bench_render.cpp

}  // namespace sdn::cli

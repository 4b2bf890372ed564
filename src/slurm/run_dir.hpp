// The run directory as the Slurm layer sees it: layout (run.ini, journal.jsonl, jobs/, ckpt/, logs/), the plan
// record RUN/jobs/plan.ini that submit/status/cancel read back, the job name, and the newest checkpoint step.
#pragma once

#include <cstdint>
#include <string>

#include "slurm/ini_doc.hpp"

namespace sdn::slurm {

// What `sdn plan` decided, as `sdn submit/status/cancel` need it.
struct RunPlan {
  std::string stage;
  std::string cluster;
  std::string mode = "requeue";       // requeue | chain
  std::string job_name;
  std::string script = "jobs/run.sbatch";  // relative to the run dir
  std::string partition;
  int nodes = 1;
  int gpus = 1;
  std::int64_t walltime_s = 0;
  std::int64_t grace_s = 0;
  int chunks = 1;                     // planned
  int max_chunks = 3;                 // loop guard
  int chain_jobs = 1;                 // jobs queued at once in chain mode
  bool reshape = false;               // chain mode: each job re-plans the rest and queues its successor
  std::int64_t total_steps = 0;
  double images_per_s = 0;            // planned throughput of the shape
  std::int64_t elapsed_s = 0;         // planned wall time, first chunk start to completion
  double service_units = 0;           // planned charge
  std::int64_t planned_at = 0;
};

std::string render_plan_ini(const RunPlan& plan);
RunPlan parse_plan_ini(IniDoc doc);
// Reads RUN/jobs/plan.ini; a missing file says the directory was not made by `sdn plan`.
RunPlan load_run_plan(const std::string& run_dir);

// Creates RUN, RUN/jobs, RUN/ckpt, RUN/logs (writable check included).
void create_run_layout(const std::string& run_dir);

// Absolute, lexically normalised path (the run dir is written into scripts that run elsewhere).
std::string absolute_path(const std::string& path);

// "sdn-<stage>-<6 hex of the run dir path>": unique per run, so chain mode can cancel its leftovers by name.
std::string job_name_for(const std::string& stage, const std::string& abs_run_dir);

// Step of the checkpoint RUN/ckpt/latest names; 0 if there is no pointer yet. Throws Error if it is unreadable
// or malformed (the no-progress guard must not guess).
std::int64_t latest_checkpoint_step(const std::string& run_dir);

}  // namespace sdn::slurm

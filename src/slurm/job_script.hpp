// The sbatch script of a run: a pure function of a JobSpec (golden-tested in tests/golden/*.sbatch).
// One script serves both modes: `requeue` (the job requeues itself after a clean exit 3) and `chain`
// (N submissions of the same script linked by --dependency=afterany; a job that finds the run finished
// exits at once). Decisions (continue, done, stop and why) are made in C++ by `sdn journal chunk-start/-end`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::slurm {

struct JobSpec {
  std::string job_name;           // unique per run: chain mode cancels leftover jobs by this name
  std::string run_dir;            // absolute path; letters, digits and ._+-/ only (it appears in #SBATCH lines)
  std::string mode = "requeue";   // requeue | chain
  bool reshape = false;           // chain: a continuing job re-plans the rest (--probe) and queues its successor
  std::string account;            // empty: no --account (local cluster)
  std::string partition;
  int nodes = 1;
  int gpus_per_node = 1;          // one task per GPU
  int cpus_per_task = 1;
  std::int64_t mem_per_node_mb = 0;  // 0: no --mem line
  std::int64_t walltime_s = 0;
  std::int64_t grace_s = 60;      // USR2 this many seconds before the time limit
  std::string gpu_bind = "task";  // task: --gpus-per-task=1 | local-rank: --gpus-per-node, rank uses SLURM_LOCALID
  int max_chunks = 10;            // restart guard (sdn journal chunk-start refuses beyond it)
  bool module_reset = false;
  std::vector<std::string> module_use;
  std::vector<std::string> modules;
  std::vector<std::string> env;           // KEY=VALUE
  std::vector<std::string> sbatch_extra;  // verbatim options, e.g. --constraint=v100
  std::string launcher;           // "srun --mpi=pmi2"
  std::string sdn_command = "sdn";
  std::string train_command;      // empty: "<sdn_command> train"
  std::string summary;            // one line describing the plan, echoed by the job
};

// Every problem with the spec (empty when it can be rendered).
std::vector<std::string> validate_job_spec(const JobSpec& spec);

// The script text. Precondition: validate_job_spec(spec) is empty.
std::string render_sbatch(const JobSpec& spec);

// POSIX single-quoting for values placed in the script body.
std::string shell_quote(const std::string& s);
// Double-quoting that keeps $VAR expansion (paths like /expanse/lustre/scratch/$USER), nothing else.
std::string shell_quote_expand(const std::string& s);

}  // namespace sdn::slurm

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
  std::string predict_command;    // prediction jobs; empty: "<sdn_command> predict"
  std::string summary;            // one line describing the plan, echoed by the job
  // A stage of a pipeline (`sdn pipeline`): the job first asks `sdn pipeline gate` whether its inputs exist.
  std::string pipeline_dir;       // absolute; empty: not part of a pipeline
  std::string pipeline_node;      // its node id in the pipeline's graph
};

// Every problem with the spec (empty when it can be rendered).
std::vector<std::string> validate_job_spec(const JobSpec& spec);

// The script text. Precondition: validate_job_spec(spec) is empty.
std::string render_sbatch(const JobSpec& spec);

// The prediction job of a pipeline stage: one `sdn predict` per split of the trained run into `out_dir`, each
// recorded in the run's journal (predict_start / predict_end), after the same gate. Uses the spec's shape,
// modules, environment, launcher and time limit (mode, grace and chunk fields do not apply).
std::string render_predict_sbatch(const JobSpec& spec, const std::vector<std::string>& splits, const std::string& out_dir);

// POSIX single-quoting for values placed in the script body.
std::string shell_quote(const std::string& s);
// Double-quoting that keeps $VAR expansion (paths like /expanse/lustre/scratch/$USER), nothing else.
std::string shell_quote_expand(const std::string& s);

}  // namespace sdn::slurm

// A cluster profile (configs/clusters/NAME.ini): partitions with their limits and charging, the account,
// the module set, the MPI launcher and paths. Users add a cluster by copying one file; every problem in it is
// reported at once with file:line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slurm/ini_doc.hpp"

namespace sdn::slurm {

struct Partition {
  std::string name;
  std::int64_t max_walltime_s = 0;
  int max_nodes = 1;
  int max_gpus = 1;             // per job, over all its nodes
  int gpus_per_node = 4;
  int cores_per_gpu = 1;
  std::int64_t mem_per_gpu_mb = 1024;
  double charge_factor = 1.0;   // service units per billed GPU-hour
  bool exclusive = false;       // whole nodes are allocated and billed (Expanse `gpu`)
  std::int64_t queue_wait_s = 0;  // planning guess of the wait per chunk when not probing
  // Per-user limits (0: none): jobs running + queued, jobs running, GPUs over all running + queued jobs.
  int max_jobs = 0;
  int max_running = 0;
  int max_user_gpus = 0;
  // A node's cores and memory: a shared job is billed for the largest of its GPU, core and memory fractions of it
  // (0: cores_per_gpu x gpus_per_node and mem_per_gpu x gpus_per_node, i.e. the GPU fraction alone).
  int node_cores = 0;
  std::int64_t node_mem_mb = 0;
};

struct ClusterProfile {
  std::string name;
  std::string origin;                  // the file it came from
  std::string account;                 // empty: no --account line (local cluster)
  std::string account_placeholder;     // the example account the profile ships with: plans refuse to charge it
  std::string launcher;                // "srun --mpi=pmi2": prefix of the trainer command
  std::string gpu_bind = "task";       // task: --gpus-per-task=1; local-rank: --gpus-per-node, rank picks SLURM_LOCALID
  std::string sdn_command;             // how jobs call sdn ("sdn" via the module); empty: this executable's path
  bool module_reset = false;           // `module reset` before the loads (Expanse convention)
  std::vector<std::string> module_use;   // `module use` paths (e.g. where the sdn modulefile lives)
  std::vector<std::string> modules;      // `module load`, in order
  std::vector<std::string> jupyter_modules;  // galyleo notebooks load these too (Jupyter itself comes from a module)
  std::vector<std::string> env;          // KEY=VALUE exported by job scripts ([cluster] env, then the [env] section)
  std::vector<std::string> sbatch_extra;  // extra `#SBATCH` options, verbatim (e.g. --constraint=...)
  std::string scratch_dir;             // per-user scratch (Lustre on Expanse)
  std::string project_dir;             // where runs and notebooks live
  std::int64_t startup_s = 60;         // job start to first training step: modules, data open, resume
  std::int64_t requeue_gap_s = 135;    // chunk end to the next chunk's start when the queue is empty
  std::string galyleo;                 // galyleo executable (path or name); empty: no notebooks on this cluster
  std::vector<Partition> partitions;

  const Partition* find(const std::string& partition) const;
};

// Builds a profile from a parsed INI; throws one UsageError listing every problem (file:line each).
ClusterProfile parse_cluster_profile(IniDoc doc);

// `name_or_path`: a file path (contains '/' or ends in .ini) or a name looked up as NAME.ini in `search_dirs`.
// Throws UsageError listing where it looked.
std::string resolve_cluster_path(const std::string& name_or_path, const std::vector<std::string>& search_dirs);

// Where cluster profiles are searched: $SDN_HOME/configs/clusters, then the source tree this binary was built from.
std::vector<std::string> default_cluster_dirs();

ClusterProfile load_cluster_profile(const std::string& name_or_path);

}  // namespace sdn::slurm

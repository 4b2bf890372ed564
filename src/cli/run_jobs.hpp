// Submitting and cancelling a planned run's jobs, shared by `sdn submit|cancel` and `sdn pipeline`: the sbatch
// calls and the journal records that `sdn status` and the job scripts' guards read.
#pragma once

#include <string>
#include <vector>

#include "slurm/cluster_profile.hpp"
#include "slurm/run_dir.hpp"

namespace sdn::cli {

// Queues the run's jobs (one self-requeueing job, or the chain of plan.chain_jobs linked by afterany), the first
// one after every job in `after` (a pipeline stage waits for the stages it reads from); journals the submit.
std::vector<std::string> submit_run_jobs(const std::string& run_dir, const slurm::RunPlan& plan,
                                         const std::vector<std::string>& after);

// Journals the cancel first (a job's chunk-end must see it and stop instead of requeueing), then scancels the
// run's queued and running jobs. Returns their ids.
std::vector<std::string> cancel_run_jobs(const std::string& run_dir, const slurm::RunPlan& plan);

// How jobs call sdn: the override, else the profile's sdn_command, else this executable's path.
std::string resolve_sdn_command(const std::string& override_command, const slurm::ClusterProfile& cluster);

// "--dependency=afterany:1:2" for `after`; empty when there is nothing to wait for.
std::vector<std::string> dependency_args(const std::vector<std::string>& after);

}  // namespace sdn::cli

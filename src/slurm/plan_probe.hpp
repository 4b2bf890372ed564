// What `sdn plan` asks the live scheduler, around the pure planner: when each candidate shape would start
// (`sbatch --test-only`) and which of the user's jobs already hold the per-user limits (`squeue --me`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "slurm/cluster_profile.hpp"
#include "slurm/plan.hpp"
#include "slurm/queue_usage.hpp"

namespace sdn::slurm {

// Replaces start times with the scheduler's answer; shapes it rejects become infeasible with its message.
void probe_start_times(const ClusterProfile& cluster, const PlanInputs& in, std::vector<Candidate>& candidates);

// The user's jobs already in the queue, per partition, except this run's own (`job_name`: a re-plan continues or
// replaces them). Returns the note saying what was counted, or why nothing was (no scheduler answered).
std::string read_user_queue(const std::string& job_name, std::map<std::string, QueueUsage>& out);

}  // namespace sdn::slurm

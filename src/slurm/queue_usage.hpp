// The user's own jobs already in the queue (`squeue --me`), summed per partition: they count against the
// partition's per-user limits (max_jobs, max_running, max_user_gpus) before a plan queues anything. Pure: the
// text of squeue in, counts out; scheduler.hpp runs the command.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sdn::slurm {

struct UserJob {
  std::string job_id;
  std::string name;
  std::string partition;
  std::string state;         // PENDING, RUNNING, ...
  std::int64_t end = 0;      // expected end (running: start + time limit), seconds since the epoch; 0 unknown
  int gpus = 0;              // over all its nodes
};

// The squeue -O fields parse_user_jobs reads ('|' after each; width 0 = the whole value).
inline constexpr const char* kUserJobsFormat =
    "JobID:0|,Name:0|,Partition:0|,State:0|,EndTime:0|,NumNodes:0|,NumTasks:0|,tres-alloc:0|,tres-per-job:0|,"
    "tres-per-node:0|,tres-per-task:0|";

// GPUs of a job from its TRES texts: tres-alloc ("cpu=2,mem=4G,node=1,gres/gpu=2": allocated, or requested while
// pending), else the request (--gpus "gres:gpu:4" per job, --gpus-per-node x nodes, --gpus-per-task x tasks).
// Slurm 22.05 writes "gres:gpu:N", 23.02 "gres/gpu:N"; a typed count (gpu:v100:N) is used when no untyped one is.
int gpus_of(const std::string& tres_alloc, const std::string& per_job, const std::string& per_node,
            const std::string& per_task, int nodes, int tasks);

// Rows of `squeue --me -h -O kUserJobsFormat`; lines with too few fields are skipped.
std::vector<UserJob> parse_user_jobs(const std::string& out);

struct QueueUsage {
  int jobs = 0;                // running + pending (every state squeue lists)
  int running = 0;
  int gpus = 0;                // over all those jobs
  std::int64_t first_end = 0;  // earliest expected end of a running one (0: none or unknown)
};

// Sums per partition (a job pending in "a,b" counts in both), skipping jobs named `skip_name` (the run being
// planned: its queued jobs are the ones a re-plan continues or replaces).
std::map<std::string, QueueUsage> usage_by_partition(const std::vector<UserJob>& jobs, const std::string& skip_name);

// "gpu 2 jobs (1 running), 8 GPUs; gpu-debug 1 job (1 running), 1 GPU" or "none".
std::string describe_usage(const std::map<std::string, QueueUsage>& usage);

}  // namespace sdn::slurm

// The thin boundary to Slurm's commands (sbatch, squeue, scancel, scontrol): running a command without a shell,
// and pure parsers for their output. Everything above this file works on parsed values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slurm/queue_usage.hpp"

namespace sdn::slurm {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (searched in PATH) with the given arguments; captures stdout and stderr. Throws sdn::Error if the
// program cannot be started (e.g. Slurm's client commands are not installed).
CommandResult run_command(const std::vector<std::string>& argv);

// Job id from `sbatch --parsable` ("123" or "123;cluster") or plain ("Submitted batch job 123"); "" if none.
std::string parse_sbatch_job_id(const std::string& out);

// Start time from `sbatch --test-only` ("sbatch: Job 4 to start at 2026-11-29T18:02:00 using ...") as seconds
// since the epoch (local time, like Slurm prints it); nullopt if the text has no such line.
std::optional<std::int64_t> parse_test_only_start(const std::string& text);

// Slurm's "YYYY-MM-DDTHH:MM:SS" (local time) to seconds since the epoch; nullopt for N/A, Unknown, etc.
std::optional<std::int64_t> parse_slurm_time(const std::string& text);

struct QueueEntry {
  std::string job_id;
  std::string name;
  std::string state;      // PENDING, RUNNING, COMPLETING, ...
  std::string reason;     // pending reason or node list
  std::string partition;
  std::string start;      // expected or actual start (Slurm time text)
  std::string end;
};

// The squeue format used by queue(): fields separated by '|'.
inline constexpr const char* kSqueueFormat = "%i|%j|%T|%R|%P|%S|%e";
std::vector<QueueEntry> parse_squeue(const std::string& out);

// squeue/sbatch/scancel wrappers. Errors carry Slurm's message and a hint about SLURM_CONF.
std::vector<QueueEntry> squeue_jobs(const std::vector<std::string>& job_ids);
std::vector<QueueEntry> squeue_by_name(const std::string& job_name);
std::vector<UserJob> squeue_user_jobs();  // `squeue --me`: this user's jobs in every partition
std::string sbatch_submit(const std::string& script, const std::vector<std::string>& extra_args);
void scancel_jobs(const std::vector<std::string>& job_ids);

}  // namespace sdn::slurm

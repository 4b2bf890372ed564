// RUN/LOCK: one trainer per run directory. The lock file records host, pid and Slurm job id; a second trainer
// is refused with the owner named. A lock whose owner is gone (dead pid on this host, an earlier incarnation
// of the same requeued job, or a job the scheduler no longer runs) is taken over. Acquisition uses link(2),
// which is atomic on local filesystems and NFS alike.
#pragma once

#include <functional>
#include <string>

namespace sdn::ckpt {

struct LockOwner {
  std::string host;
  int pid = 0;
  std::string job_id;  // Slurm job id, "" outside Slurm
  std::string since;   // ISO-8601 UTC
};

std::string owner_to_text(const LockOwner& o);
LockOwner owner_from_text(const std::string& text);

// Decides whether a recorded owner still runs. `me` is the would-be owner.
using OwnerAlive = std::function<bool(const LockOwner& owner, const LockOwner& me)>;
// Default: same job id -> gone (we are its requeued incarnation); same host -> kill(pid, 0); other hosts ->
// `job_alive(job_id)` when a job id is recorded (e.g. asks squeue), else assumed alive.
OwnerAlive default_owner_alive(std::function<bool(const std::string& job_id)> job_alive = {});

class RunLock {
 public:
  RunLock(const std::string& run_dir, LockOwner me, const OwnerAlive& alive);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  bool took_over_stale() const { return took_over_; }
  const LockOwner& previous_owner() const { return previous_; }

 private:
  std::string path_;
  LockOwner me_;
  bool took_over_ = false;
  LockOwner previous_;
};

}  // namespace sdn::ckpt

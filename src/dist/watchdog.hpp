// Collective watchdog: when a peer rank dies or hangs, the others would wait inside an all-reduce until the
// job's time limit (48 h x 16 GPUs of allocation). A background thread watches every collective in flight
// and, when one has not completed after `timeout_seconds`, reports which collective, where and how long,
// and ends the job (abort_job, exit kExitCollectiveTimeout: a failure, never a requeue).
// Host-blocking MPI collectives are bracketed by a CollectiveScope (cost: one mutex lock and unlock). Device
// work (NCCL) cannot be bracketed on the host, so it is registered with a completion poll (cudaEventQuery)
// and a cancel action (ncclCommAbort), which the watchdog runs before it aborts.
// Process-wide by design, like MPI itself: collectives are free functions on every layer's call path, and
// a timeout ends the whole process anyway. Without an installed watchdog every scope is a no-op.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sdn::dist {

struct WatchdogOptions {
  double timeout_seconds = 600;  // dist.timeout_seconds; <= 0 disables the watchdog (install() does nothing)
  double poll_seconds = 0;       // 0: timeout / 10, clamped to [0.05, 5] s
  int exit_code = 0;             // 0: kExitCollectiveTimeout
  // Runs once, on the watchdog thread, right before the job is ended (e.g. journal the reason). Must not
  // call MPI. Exceptions are swallowed: the abort goes ahead.
  std::function<void(const std::string& message)> before_abort;
  // Replaces the abort (tests only). The default writes the message and ends the job via abort_job.
  std::function<void(const std::string& message)> on_timeout;
};

// "collective 'X' has not completed after 612 s on rank 0 of 2 (host h) ..." (pure; the watchdog's message).
std::string timeout_message(const std::string& what, double waited_seconds, double timeout_seconds, int rank,
                            int world, const std::string& host);

class Watchdog {
 public:
  explicit Watchdog(WatchdogOptions options);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // A host-side collective starts: returns the token for disarm(). Thread-safe.
  std::uint64_t arm(std::string what);
  // Device work in flight: the watchdog thread polls `done` (true = complete, the entry is dropped) and on a
  // timeout calls every in-flight entry's `cancel` before it aborts. Thread-safe.
  std::uint64_t arm_async(std::string what, std::function<bool()> done, std::function<void()> cancel);
  // The collective completed (or its owner gives up on it). Unknown tokens are ignored. Thread-safe.
  void disarm(std::uint64_t token);

  const WatchdogOptions& options() const { return options_; }
  std::size_t in_flight() const;  // entries currently armed (tests)

 private:
  struct Entry {
    std::uint64_t token;
    std::string what;
    std::chrono::steady_clock::time_point since;
    std::function<bool()> done;
    std::function<void()> cancel;
  };
  void run();
  void fire(const Entry& late, double waited);

  WatchdogOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> entries_;
  std::uint64_t next_token_ = 1;
  bool stop_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Installs a watchdog for the process for this object's lifetime (RAII; the CLI owns one per command).
// With timeout_seconds <= 0 nothing is installed. Only one may be installed at a time.
class WatchdogInstall {
 public:
  explicit WatchdogInstall(const WatchdogOptions& options);
  ~WatchdogInstall();
  WatchdogInstall(const WatchdogInstall&) = delete;
  WatchdogInstall& operator=(const WatchdogInstall&) = delete;

 private:
  std::shared_ptr<Watchdog> watchdog_;
};

// The installed watchdog, or null (shared: a detached communication thread may outlive the install).
std::shared_ptr<Watchdog> installed_watchdog();

// Brackets one host-blocking collective: armed on construction, disarmed on destruction (also on throw).
class CollectiveScope {
 public:
  explicit CollectiveScope(const char* what);
  explicit CollectiveScope(std::string what);
  ~CollectiveScope();
  CollectiveScope(const CollectiveScope&) = delete;
  CollectiveScope& operator=(const CollectiveScope&) = delete;

 private:
  std::shared_ptr<Watchdog> watchdog_;
  std::uint64_t token_ = 0;
};

}  // namespace sdn::dist

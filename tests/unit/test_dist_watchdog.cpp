// The collective watchdog without MPI (dist/watchdog.hpp): a collective armed past the timeout fires once with
// a message naming it, where and how long; disarmed and completed ones never fire; device entries are
// polled and cancelled; scopes are no-ops without an installed watchdog. The timeout action is replaced by
// a recorder, so nothing is aborted (test_dist_timeout covers the real abort across 2 ranks).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "dist/watchdog.hpp"

namespace sdn::dist {
namespace {

struct Recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> messages;
  std::vector<std::string> journaled;

  WatchdogOptions options(double timeout) {
    WatchdogOptions o;
    o.timeout_seconds = timeout;
    o.poll_seconds = 0.01;
    o.on_timeout = [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mutex);
      messages.push_back(m);
      cv.notify_all();
    };
    o.before_abort = [this](const std::string& m) {
      std::lock_guard<std::mutex> lock(mutex);
      journaled.push_back(m);
    };
    return o;
  }
  // Waits (bounded) for the first message; empty if none came.
  std::string wait_first(double seconds) {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return !messages.empty(); });
    return messages.empty() ? std::string() : messages.front();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages.size();
  }
};

TEST(DistWatchdog, MessageNamesTheCollectiveRankHostAndWait) {
  const auto m = timeout_message("MPI_Allreduce of gradient bucket 2 of 8 of reducer 'generator'", 612.34, 600, 3, 16,
                                 "exp-7-12");
  EXPECT_NE(m.find("'MPI_Allreduce of gradient bucket 2 of 8 of reducer 'generator''"), std::string::npos) << m;
  EXPECT_NE(m.find("after 612.3 s (dist.timeout_seconds = 600)"), std::string::npos) << m;
  EXPECT_NE(m.find("on rank 3 of 16 (host exp-7-12)"), std::string::npos) << m;
}

TEST(DistWatchdog, ArmedPastTheTimeoutFiresOnceWithTheMessage) {
  Recorder rec;
  Watchdog w(rec.options(0.1));
  const auto token = w.arm("MPI_Allreduce of step scalars");
  const auto m = rec.wait_first(30);
  ASSERT_FALSE(m.empty()) << "the watchdog did not fire";
  EXPECT_NE(m.find("'MPI_Allreduce of step scalars' has not completed after "), std::string::npos) << m;
  EXPECT_NE(m.find("on rank 0 of 1"), std::string::npos) << m;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(rec.count(), 1u) << "fires once, not on every poll";
  ASSERT_EQ(rec.journaled.size(), 1u);
  EXPECT_EQ(rec.journaled.front(), m) << "before_abort gets the same message";
  w.disarm(token);
}

TEST(DistWatchdog, CollectivesThatCompleteNeverFire) {
  Recorder rec;
  Watchdog w(rec.options(0.2));
  // Many short collectives whose total far exceeds the timeout: only a single one's age counts.
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  while (std::chrono::steady_clock::now() < end) {
    const auto t = w.arm("short collective");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    w.disarm(t);
  }
  EXPECT_EQ(w.in_flight(), 0u);
  EXPECT_EQ(rec.count(), 0u);
  w.disarm(12345);  // unknown tokens are ignored
}

TEST(DistWatchdog, DeviceWorkIsPolledAndCancelledOnTimeout) {
  Recorder rec;
  Watchdog w(rec.options(0.2));
  std::atomic<bool> complete{false};
  std::atomic<int> cancelled{0};
  w.arm_async("ncclAllReduce of gradient bucket 0", [&] { return complete.load(); }, [&] { ++cancelled; });
  complete = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(w.in_flight(), 0u) << "a completed device entry is dropped by the poll";
  w.arm_async("ncclAllReduce of gradient bucket 1", [] { return false; }, [&] { ++cancelled; });
  const auto m = rec.wait_first(30);
  ASSERT_FALSE(m.empty());
  EXPECT_NE(m.find("ncclAllReduce of gradient bucket 1"), std::string::npos) << m;
  EXPECT_EQ(cancelled.load(), 1) << "the stuck communicator is aborted before the job is ended";
}

TEST(DistWatchdog, ScopesAreNoOpsWithoutAnInstalledWatchdog) {
  EXPECT_EQ(installed_watchdog(), nullptr);
  { CollectiveScope scope("nothing watches this"); }
  Recorder rec;
  {
    WatchdogInstall off(rec.options(0));  // timeout 0: disabled, nothing installed
    EXPECT_EQ(installed_watchdog(), nullptr);
  }
  {
    WatchdogInstall install(rec.options(600));
    auto w = installed_watchdog();
    ASSERT_NE(w, nullptr);
    {
      CollectiveScope scope("MPI_Bcast of parameters and buffers from rank 0");
      EXPECT_EQ(w->in_flight(), 1u);
    }
    EXPECT_EQ(w->in_flight(), 0u);
  }
  EXPECT_EQ(installed_watchdog(), nullptr);
}

}  // namespace
}  // namespace sdn::dist

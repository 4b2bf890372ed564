// Implements the collective watchdog (see watchdog.hpp).
// The thread sleeps on a condition variable between polls, so a healthy job pays one lock per collective
// and one wake-up per poll interval; nothing is ever sent between ranks.
#include "dist/watchdog.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "dist/abort.hpp"

namespace sdn::dist {
namespace {

std::mutex g_install_mutex;
std::shared_ptr<Watchdog> g_installed;  // guarded by g_install_mutex; read through installed_watchdog()
std::atomic<bool> g_any_installed{false};

double poll_interval(const WatchdogOptions& o) {
  if (o.poll_seconds > 0) return o.poll_seconds;
  return std::clamp(o.timeout_seconds / 10.0, 0.05, 5.0);
}

}  // namespace

std::string timeout_message(const std::string& what, double waited, double timeout, int rank, int world,
                            const std::string& host) {
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%.1f s (dist.timeout_seconds = %g)", waited, timeout);
  return "collective timeout: '" + what + "' has not completed after " + seconds + " on rank " +
         std::to_string(rank) + " of " + std::to_string(world) + " (host " + host +
         "); another rank has died or hangs (its log says why); ending the job instead of waiting for the time limit";
}

Watchdog::Watchdog(WatchdogOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::uint64_t Watchdog::arm(std::string what) { return arm_async(std::move(what), {}, {}); }

std::uint64_t Watchdog::arm_async(std::string what, std::function<bool()> done, std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::uint64_t token = next_token_++;
  entries_.push_back({token, std::move(what), std::chrono::steady_clock::now(), std::move(done), std::move(cancel)});
  return token;
}

void Watchdog::disarm(std::uint64_t token) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Few entries are ever in flight (a bucket or two, a SyncBN sum): a linear search beats any index.
  for (size_t i = entries_.size(); i-- > 0;)
    if (entries_[i].token == token) {
      entries_.erase(entries_.begin() + static_cast<long>(i));
      return;
    }
}

std::size_t Watchdog::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void Watchdog::run() {
  const auto poll = std::chrono::duration<double>(poll_interval(options_));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, poll, [&] { return stop_; });
    if (stop_ || fired_) continue;
    const auto now = std::chrono::steady_clock::now();
    // Device entries complete without telling anyone: poll them (cudaEventQuery is cheap and thread-safe).
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [](const Entry& e) { return e.done && e.done(); }),
                   entries_.end());
    const Entry* oldest = nullptr;
    for (const auto& e : entries_)
      if (!oldest || e.since < oldest->since) oldest = &e;
    if (!oldest) continue;
    const double waited = std::chrono::duration<double>(now - oldest->since).count();
    if (waited < options_.timeout_seconds) continue;
    fired_ = true;
    const Entry late = *oldest;
    std::vector<std::function<void()>> cancels;
    for (const auto& e : entries_)
      if (e.cancel) cancels.push_back(e.cancel);
    lock.unlock();  // the abort path never returns in production; tests' on_timeout may re-enter arm/disarm
    for (auto& c : cancels) {
      try {
        c();
      } catch (...) {
      }
    }
    fire(late, waited);
    lock.lock();
  }
}

void Watchdog::fire(const Entry& late, double waited) {
  const auto& me = process_identity();
  const std::string message = timeout_message(late.what, waited, options_.timeout_seconds, me.rank, me.world, me.host);
  if (options_.before_abort) {
    try {
      options_.before_abort(message);
    } catch (...) {
    }
  }
  if (options_.on_timeout) {
    options_.on_timeout(message);
    return;
  }
  abort_job(message, options_.exit_code != 0 ? options_.exit_code : kExitCollectiveTimeout);
}

WatchdogInstall::WatchdogInstall(const WatchdogOptions& options) {
  if (options.timeout_seconds <= 0) return;
  std::lock_guard<std::mutex> lock(g_install_mutex);
  SDN_CHECK(!g_installed, "a collective watchdog is already installed in this process");
  watchdog_ = std::make_shared<Watchdog>(options);
  g_installed = watchdog_;
  g_any_installed.store(true, std::memory_order_release);
}

WatchdogInstall::~WatchdogInstall() {
  if (!watchdog_) return;
  {
    std::lock_guard<std::mutex> lock(g_install_mutex);
    g_installed.reset();
    g_any_installed.store(false, std::memory_order_release);
  }
  watchdog_.reset();  // joins the thread unless a scope still holds it (that one joins it later)
}

std::shared_ptr<Watchdog> installed_watchdog() {
  if (!g_any_installed.load(std::memory_order_acquire)) return nullptr;  // the common no-watchdog path: no lock
  std::lock_guard<std::mutex> lock(g_install_mutex);
  return g_installed;
}

CollectiveScope::CollectiveScope(const char* what) : watchdog_(installed_watchdog()) {
  if (watchdog_) token_ = watchdog_->arm(what);
}

CollectiveScope::CollectiveScope(std::string what) : watchdog_(installed_watchdog()) {
  if (watchdog_) token_ = watchdog_->arm(std::move(what));
}

CollectiveScope::~CollectiveScope() {
  if (watchdog_) watchdog_->disarm(token_);
}

}  // namespace sdn::dist

// Implements the signal flag and the deadline policy (see stop.hpp).
#include "train/stop.hpp"

#include <atomic>

#include "core/error.hpp"

namespace sdn::train {
namespace {

volatile std::sig_atomic_t g_raised = 0;  // async-signal-safe: the handler does nothing else
volatile std::sig_atomic_t g_which = 0;

extern "C" void on_stop_signal(int sig) {
  g_raised = 1;
  g_which = sig;
}

}  // namespace

int signal_number(const std::string& name) {
  if (name == "USR1") return SIGUSR1;
  if (name == "USR2") return SIGUSR2;
  if (name == "TERM") return SIGTERM;
  if (name == "INT") return SIGINT;
  return 0;
}

SignalFlag::SignalFlag(const std::vector<std::string>& names) {
  // The flag is never reset: a signal that arrived while an earlier SignalFlag guarded start-up must still
  // stop the run at its first step boundary.
  for (const auto& n : names) {
    int sig = signal_number(n);
    if (sig == 0) throw UsageError("unknown stop signal '" + n + "'", "use USR1, USR2, TERM or INT");
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a signal must not make a blocking read or MPI call fail with EINTR
    struct sigaction old {};
    if (sigaction(sig, &sa, &old) != 0) throw Error("cannot install the handler for SIG" + n);
    previous_.emplace_back(sig, old);
  }
}

SignalFlag::~SignalFlag() {
  for (auto& [sig, old] : previous_) sigaction(sig, &old, nullptr);
}

bool SignalFlag::raised() const { return g_raised != 0; }
int SignalFlag::which() const { return g_which; }

bool deadline_reached(double now, double deadline, const StopEstimates& est, double margin_seconds) {
  if (deadline <= 0) return false;
  // 1.5x: step and checkpoint times vary (evaluation steps, file-system hiccups); the margin absorbs the rest.
  const double needed = 1.5 * est.step_seconds + 1.5 * est.checkpoint_seconds + margin_seconds;
  return now + needed >= deadline;
}

}  // namespace sdn::train

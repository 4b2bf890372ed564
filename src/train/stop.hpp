// Stopping in time. Signals (USR2/TERM by default; Slurm's --signal warning, preemption, scancel) only set a
// flag: acting inside a handler would race the step. The loop reads the flag at each step boundary and all
// ranks agree in one tiny all-reduce, so they stop at the same step. The deadline policy stops on its own
// before the job ends, leaving room for one more step, the checkpoint and a margin, so a lost or late signal
// loses nothing.
#pragma once

#include <csignal>
#include <string>
#include <vector>

namespace sdn::train {

// Installs flag-setting handlers for the named signals; restores the previous handlers on destruction.
// The flag is process-wide and sticky: `sdn train` installs one before MPI start-up (a job's warning signal
// may arrive while the libraries load), the loop another; both see a signal received by either.
class SignalFlag {
 public:
  explicit SignalFlag(const std::vector<std::string>& signal_names);
  ~SignalFlag();
  SignalFlag(const SignalFlag&) = delete;
  SignalFlag& operator=(const SignalFlag&) = delete;
  bool raised() const;
  int which() const;  // the last signal number received (0 if none)

 private:
  std::vector<std::pair<int, struct sigaction>> previous_;
};

int signal_number(const std::string& name);  // "USR2" -> SIGUSR2; 0 if unknown

// Measured costs the deadline policy needs (seconds, smoothed by the loop).
struct StopEstimates {
  double step_seconds = 0;
  double checkpoint_seconds = 0;
};

// True when another step would not leave time to checkpoint before `deadline` (UNIX seconds; 0 = none).
// Pure: the loop passes the clock. Unknown costs (0) are covered by the margin alone.
bool deadline_reached(double now, double deadline, const StopEstimates& est, double margin_seconds);

}  // namespace sdn::train

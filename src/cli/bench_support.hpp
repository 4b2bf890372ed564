// The machinery the side-by-side benchmarks share: child processes they talk to or time (the Python
// references, dd, mpirun, `sdn train`), the machine's load for the results header, the page cache (evicting
// a file so a read measures the disk), and scratch directories. Benchmarks only; nothing else uses it.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "cli/commands.hpp"

namespace sdn::cli::bench {

// "load 7.91 / 7.50 (1 / 5 min avg), 3 runnable, 2 cores" from /proc/loadavg.
std::string load_note();

// Absolute path of the running sdn binary (for re-launching itself under mpirun or as a trainer).
std::string self_exe();

// `override` when not empty, else SDN_SOURCE_DIR/<relative> (the source tree this binary was built from:
// the Python halves in bench/, configs/). Throws UsageError naming the option if the file does not exist.
std::string source_file(const std::string& relative, const std::string& override, const std::string& option);

// "sdn bench step --arch drn_d_22 ..." for the results table (arguments shell-quoted where needed).
std::string command_line(const std::string& prefix, const Args& args);

// How a child is connected. Without a pipe, stdout and stderr go to `log_file` (or are inherited if empty).
struct ChildOptions {
  bool pipe_stdin = false;
  bool pipe_stdout = false;
  bool stderr_to_stdout = false;  // with pipe_stdout: stderr into the same pipe
  std::string log_file;
  std::vector<std::pair<std::string, std::string>> set_env;  // added to (or replacing in) our environment
  std::vector<std::string> unset_env;
};

// A running child process; killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const ChildOptions& options);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void write_line(const std::string& line);
  // Next line of stdout without the newline. Throws Error naming the program if it ends first.
  std::string read_line();
  // Whether it has exited (reaps it if so; exit_code() then holds the status).
  bool exited();
  void send_signal(int sig);
  // Waits for the exit; returns the exit code, or 128 + signal number.
  int wait();
  int exit_code() const { return status_; }

 private:
  std::string program_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int status_ = -1;
};

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
  double seconds = 0;  // wall time from fork to reaping
};
// Runs argv to completion, capturing its output. Throws Error if it cannot be started.
Ran run_timed(const std::vector<std::string>& argv);

// Evicts the (fsynced, hence clean) pages of `path` from the page cache with posix_fadvise(DONTNEED) and
// returns the fraction still resident afterwards (mincore), so callers can show the read really hits the disk.
double drop_page_cache(const std::string& path);

// A fresh directory under `parent` (mkdtemp), removed with its content on destruction.
class ScratchDir {
 public:
  ScratchDir(const std::string& parent, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// File size in bytes (Error naming the path if it cannot be read).
long long file_bytes(const std::string& path);

}  // namespace sdn::cli::bench

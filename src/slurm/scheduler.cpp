// Implements the Slurm command boundary (see scheduler.hpp).
#include "slurm/scheduler.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sdn::slurm {
namespace {

const char* kSlurmHint = "is Slurm reachable? On the local cluster: export SLURM_CONF=<dir>/slurm.conf "
                         "(printed by `sdn cluster up`)";

// Reads both pipes until EOF without deadlocking on a full pipe buffer.
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv) {
  SDN_CHECK(!argv.empty(), "run_command needs a program");
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0)
    throw Error("cannot create pipes to run " + argv[0] + ": " + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) throw Error("cannot fork to run " + argv[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    int e = errno;  // tell the parent why exec failed through the close-on-exec pipe
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  bool exec_failed = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(exec_pipe[0]);
  CommandResult r;
  drain(out_pipe[0], err_pipe[0], r.out, r.err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed)
    throw Error("cannot run '" + argv[0] + "': " + std::strerror(exec_errno),
                "install Slurm's client commands (Debian: slurm-client) or load the cluster's slurm module");
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string parse_sbatch_job_id(const std::string& out) {
  std::string t = parse::trim(out);
  const std::string marker = "Submitted batch job ";
  if (auto p = t.find(marker); p != std::string::npos) t = t.substr(p + marker.size());
  t = t.substr(0, t.find_first_of(";\n \t"));
  if (t.empty() || t.find_first_not_of("0123456789_") != std::string::npos) return {};
  return t;
}

std::optional<std::int64_t> parse_slurm_time(const std::string& text) {
  std::tm tm{};
  std::string t = parse::trim(text);
  if (t.size() < 19) return std::nullopt;
  std::istringstream in(t.substr(0, 19));
  char d1, d2, tt, c1, c2;
  in >> tm.tm_year >> d1 >> tm.tm_mon >> d2 >> tm.tm_mday >> tt >> tm.tm_hour >> c1 >> tm.tm_min >> c2 >> tm.tm_sec;
  if (!in || d1 != '-' || d2 != '-' || tt != 'T' || c1 != ':' || c2 != ':') return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  std::time_t v = std::mktime(&tm);
  if (v == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

std::optional<std::int64_t> parse_test_only_start(const std::string& text) {
  const std::string marker = " to start at ";
  auto p = text.find(marker);
  if (p == std::string::npos) return std::nullopt;
  return parse_slurm_time(text.substr(p + marker.size()));
}

std::vector<QueueEntry> parse_squeue(const std::string& out) {
  std::vector<QueueEntry> rows;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (parse::trim(line).empty()) continue;
    auto f = parse::split(line, '|', false);
    if (f.size() < 7) continue;
    rows.push_back({parse::trim(f[0]), f[1], f[2], f[3], f[4], f[5], f[6]});
  }
  return rows;
}

std::vector<QueueEntry> squeue_jobs(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return {};
  // --states=all would also list finished jobs for MinJobAge; we only care about the live ones.
  auto r = run_command({"squeue", "-h", "-o", kSqueueFormat, "-j", parse::join(job_ids, ",")});
  // squeue fails with "Invalid job id specified" once every listed job has left the queue: that is "none".
  if (r.exit_code != 0 && r.err.find("Invalid job id") == std::string::npos)
    throw Error("squeue failed: " + parse::trim(r.err), kSlurmHint);
  return parse_squeue(r.out);
}

std::vector<QueueEntry> squeue_by_name(const std::string& job_name) {
  auto r = run_command({"squeue", "-h", "-o", kSqueueFormat, "-n", job_name});
  if (r.exit_code != 0) throw Error("squeue failed: " + parse::trim(r.err), kSlurmHint);
  return parse_squeue(r.out);
}

std::vector<UserJob> squeue_user_jobs() {
  auto r = run_command({"squeue", "--me", "-h", "-O", kUserJobsFormat});
  if (r.exit_code != 0) throw Error("squeue --me failed: " + parse::trim(r.err), kSlurmHint);
  return parse_user_jobs(r.out);
}

std::string sbatch_submit(const std::string& script, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(script);
  auto r = run_command(argv);
  std::string id = parse_sbatch_job_id(r.out);
  if (r.exit_code != 0 || id.empty())
    throw Error("sbatch " + script + " failed: " + parse::trim(r.err.empty() ? r.out : r.err), kSlurmHint);
  return id;
}

void scancel_jobs(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  auto r = run_command(argv);
  if (r.exit_code != 0) throw Error("scancel failed: " + parse::trim(r.err), kSlurmHint);
}

}  // namespace sdn::slurm

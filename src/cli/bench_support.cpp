// Implements the shared benchmark machinery (see bench_support.hpp).
#include "cli/bench_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"

#ifndef SDN_SOURCE_DIR
#define SDN_SOURCE_DIR "."
#endif

namespace sdn::cli::bench {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes an fd once; -1 means closed.
void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::string load_note() {
  std::ifstream in("/proc/loadavg");
  double l1 = 0, l5 = 0, l15 = 0;
  std::string running;  // "runnable/total"
  in >> l1 >> l5 >> l15 >> running;
  char buf[160];
  std::snprintf(buf, sizeof buf, "load %.2f / %.2f (1 / 5 min avg), %s runnable, %u cores", l1, l5,
                running.substr(0, running.find('/')).c_str(), std::thread::hardware_concurrency());
  return buf;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

std::string source_file(const std::string& relative, const std::string& override, const std::string& option) {
  const std::string path = override.empty() ? std::string(SDN_SOURCE_DIR) + "/" + relative : override;
  if (!std::filesystem::is_regular_file(path))
    throw UsageError("--" + option + ": " + path + " does not exist",
                     "pass --" + option + " with the path of the source tree's " + relative);
  return path;
}

std::string command_line(const std::string& prefix, const Args& args) {
  std::string out = prefix;
  for (const auto& a : args) {
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_=./,:+@") == std::string::npos;
    out += " " + (plain ? a : "'" + a + "'");
  }
  return out;
}

Child::Child(const std::vector<std::string>& argv, const ChildOptions& o) : program_(argv.at(0)) {
  ::signal(SIGPIPE, SIG_IGN);  // a dead child must surface as EPIPE on write, not kill the benchmark
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, exec_pipe[2] = {-1, -1};
  // Everything the child needs is built before fork: a child of a multi-threaded parent should only exec.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e, key = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const auto& k : o.unset_env) drop |= k == key;
    for (const auto& kv : o.set_env) drop |= kv.first == key;
    if (!drop) env_text.push_back(entry);
  }
  for (const auto& [k, v] : o.set_env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int in_rc = o.pipe_stdin ? ::pipe2(in_pipe, O_CLOEXEC) : 0;
  const int out_rc = o.pipe_stdout ? ::pipe2(out_pipe, O_CLOEXEC) : 0;
  if (in_rc != 0 || out_rc != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    const std::string why = errno_text();
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1]}) close_fd(*fd);
    throw Error("cannot create pipes to run " + program_ + ": " + why);
  }
  int log_fd = -1;
  auto close_all = [&] {
    for (int* fd : {&in_pipe[0], &in_pipe[1], &out_pipe[0], &out_pipe[1], &exec_pipe[0], &exec_pipe[1], &log_fd})
      close_fd(*fd);
  };
  if (!o.log_file.empty()) {
    log_fd = ::open(o.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      close_all();
      throw Error("cannot create " + o.log_file + ": " + errno_text());
    }
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    close_all();
    throw Error("cannot fork to run " + program_ + ": " + errno_text());
  }
  if (pid_ == 0) {
    if (o.pipe_stdin) ::dup2(in_pipe[0], 0);
    if (o.pipe_stdout) ::dup2(out_pipe[1], 1);
    if (o.pipe_stdout && o.stderr_to_stdout) ::dup2(out_pipe[1], 2);
    if (log_fd >= 0) {
      if (!o.pipe_stdout) ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    ::execvpe(args[0], args.data(), envp.data());
    int e = errno;  // tell the parent why exec failed through the close-on-exec pipe
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  close_fd(in_pipe[0]);
  close_fd(out_pipe[1]);
  close_fd(exec_pipe[1]);
  close_fd(log_fd);
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
  int exec_errno = 0;
  const bool exec_failed = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close_fd(exec_pipe[0]);
  if (exec_failed) {
    wait();
    close_fd(stdin_fd_);
    close_fd(stdout_fd_);
    throw Error("cannot run '" + program_ + "': " + std::strerror(exec_errno), "check the path (or PATH)");
  }
}

Child::~Child() {
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Child::write_line(const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(stdin_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot write to " + program_ + " (did it exit?): " + errno_text());
    done += static_cast<size_t>(n);
  }
}

std::string Child::read_line() {
  char buf[4096];
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int code = wait();
      throw Error(program_ + " ended (exit code " + std::to_string(code) + ") before answering",
                  "its own messages above say why");
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

bool Child::exited() {
  if (reaped_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    status_ = decode_status(status);
  }
  return reaped_;
}

void Child::send_signal(int sig) {
  if (!reaped_ && ::kill(pid_, sig) != 0) throw Error("cannot signal " + program_ + ": " + errno_text());
}

int Child::wait() {
  if (reaped_) return status_;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw Error("waitpid for " + program_ + ": " + errno_text());
  }
  reaped_ = true;
  status_ = decode_status(status);
  return status_;
}

Ran run_timed(const std::vector<std::string>& argv) {
  const auto t0 = std::chrono::steady_clock::now();
  ChildOptions o;
  o.pipe_stdout = true;
  o.stderr_to_stdout = true;  // dd reports on stderr
  Child child(argv, o);
  Ran r;
  try {
    for (;;) r.output += child.read_line() + "\n";
  } catch (const Error&) {
    // end of output: the child has exited and was reaped by read_line
  }
  r.exit_code = child.wait();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

double drop_page_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path + ": " + errno_text());
  struct stat st {};
  double resident = 0;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    ::fdatasync(fd);  // dirty pages cannot be dropped; make sure there are none
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const long page = ::sysconf(_SC_PAGESIZE);
      const size_t pages = (static_cast<size_t>(st.st_size) + page - 1) / page;
      std::vector<unsigned char> in_core(pages);
      size_t count = 0;
      if (::mincore(map, static_cast<size_t>(st.st_size), in_core.data()) == 0)
        for (unsigned char c : in_core) count += c & 1;
      resident = static_cast<double>(count) / static_cast<double>(pages);
      ::munmap(map, static_cast<size_t>(st.st_size));
    }
  }
  ::close(fd);
  return resident;
}

ScratchDir::ScratchDir(const std::string& parent, const std::string& prefix) {
  std::filesystem::create_directories(parent);
  std::string templ = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw Error("cannot create a scratch directory under " + parent + ": " + errno_text(),
                "pass a writable directory on the disk to measure");
  path_ = std::filesystem::absolute(buf.data()).string();
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

long long file_bytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  if (ec) throw Error("cannot read the size of " + path + ": " + ec.message());
  return static_cast<long long>(n);
}

}  // namespace sdn::cli::bench

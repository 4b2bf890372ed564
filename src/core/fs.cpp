// Implements the crash-safe file primitives (see fs.hpp).
#include "core/fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace sdn::fs {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all_fd(int fd, const std::string& content, const std::string& path) {
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot write " + path + ": " + errno_text(), "check free space and permissions");
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir + ": " + ec.message(), "choose a directory you can write to");
  std::string probe = temp_path_for(dir + "/.write-probe");
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) throw Error("directory " + dir + " is not writable: " + errno_text(), "fix its permissions or choose another directory");
  ::close(fd);
  ::unlink(probe.c_str());
}

std::string temp_path_for(const std::string& final_path) {
  static std::atomic<unsigned> counter{0};
  return final_path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path + " to fsync it: " + errno_text());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    throw Error("fsync of " + path + " failed: " + errno_text(), "the disk may be full or failing");
  }
}

void commit_rename(const std::string& temp_path, const std::string& final_path) {
  fsync_path(temp_path);
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0)
    throw Error("cannot rename " + temp_path + " to " + final_path + ": " + errno_text());
  auto parent = std::filesystem::path(final_path).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

void write_atomic(const std::string& path, const std::string& content) {
  std::string tmp = temp_path_for(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot create " + tmp + ": " + errno_text(), "check that the directory exists and is writable");
  try {
    write_all_fd(fd, content, tmp);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  try {
    commit_rename(tmp, path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

void append_line_durable(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot open " + path + " for appending: " + errno_text(), "check permissions of the run directory");
  try {
    write_all_fd(fd, line + "\n", path);  // one write(2) with O_APPEND: lines from several writers never interleave
    if (::fsync(fd) != 0) throw Error("fsync of " + path + " failed: " + errno_text());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path + ": " + errno_text(), "check that the file exists and is readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sdn::fs

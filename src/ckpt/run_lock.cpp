// Implements the run-directory lock (see run_lock.hpp).
#include "ckpt/run_lock.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"

namespace sdn::ckpt {

std::string owner_to_text(const LockOwner& o) {
  std::ostringstream os;
  os << "host=" << o.host << "\npid=" << o.pid << "\njob=" << o.job_id << "\nsince=" << o.since << "\n";
  return os.str();
}

LockOwner owner_from_text(const std::string& text) {
  LockOwner o;
  for (const auto& line : parse::split(text, '\n')) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "host") o.host = v;
    if (k == "pid") parse::parse_value(v, o.pid);
    if (k == "job") o.job_id = v;
    if (k == "since") o.since = v;
  }
  return o;
}

OwnerAlive default_owner_alive(std::function<bool(const std::string&)> job_alive) {
  return [job_alive](const LockOwner& owner, const LockOwner& me) {
    if (!owner.job_id.empty() && owner.job_id == me.job_id) return false;  // our own earlier incarnation
    if (owner.host == me.host) return owner.pid > 0 && (::kill(owner.pid, 0) == 0 || errno == EPERM);
    if (!owner.job_id.empty() && job_alive) return job_alive(owner.job_id);
    return true;  // another host and no way to ask: refuse rather than risk two writers
  };
}

RunLock::RunLock(const std::string& run_dir, LockOwner me, const OwnerAlive& alive)
    : path_((std::filesystem::path(run_dir) / "LOCK").string()), me_(std::move(me)) {
  fs::ensure_writable_dir(run_dir);
  const std::string tmp = fs::temp_path_for(path_);
  fs::write_atomic(tmp, owner_to_text(me_));
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::link(tmp.c_str(), path_.c_str()) == 0) {
      ::unlink(tmp.c_str());
      return;
    }
    if (errno != EEXIST) {
      int e = errno;
      ::unlink(tmp.c_str());
      throw Error("cannot create lock " + path_ + ": " + std::strerror(e), "check that the run directory is writable");
    }
    LockOwner owner;
    try {
      owner = owner_from_text(fs::read_file(path_));
    } catch (const Error&) {
      continue;  // vanished between link and read: try again
    }
    if (alive(owner, me_)) {
      ::unlink(tmp.c_str());
      throw Error("run directory " + run_dir + " is in use by pid " + std::to_string(owner.pid) + " on " + owner.host +
                      (owner.job_id.empty() ? "" : " (Slurm job " + owner.job_id + ")") + " since " + owner.since,
                  "wait for that trainer to finish or cancel it (sdn cancel); if it is surely dead, remove " + path_);
    }
    // Stale: move it aside atomically (only one contender's rename succeeds), then retry the link.
    const std::string aside = path_ + ".stale." + std::to_string(::getpid());
    if (::rename(path_.c_str(), aside.c_str()) == 0) {
      ::unlink(aside.c_str());
      took_over_ = true;
      previous_ = owner;
    }
  }
  ::unlink(tmp.c_str());
  throw Error("could not acquire " + path_ + " after 3 attempts", "another trainer is starting on this run directory");
}

RunLock::~RunLock() {
  // Remove the lock only if it is still ours (a forced takeover may have replaced it).
  try {
    auto owner = owner_from_text(fs::read_file(path_));
    if (owner.host == me_.host && owner.pid == me_.pid) ::unlink(path_.c_str());
  } catch (...) {
  }
}

}  // namespace sdn::ckpt

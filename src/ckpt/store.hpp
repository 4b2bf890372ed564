// The checkpoint directory of a run (RUN/ckpt/): step-%08d.h5 files, the `latest` pointer (a small text file
// naming the newest complete checkpoint, replaced atomically after the checkpoint itself is durable),
// retention (last K plus milestones every N steps) and the choice of what to resume from (newest that
// verifies, falling back past damaged ones with the reason logged).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ckpt/checkpoint.hpp"

namespace sdn::ckpt {

struct RetentionOptions {
  int keep_last = 3;                 // newest K checkpoints always kept
  std::int64_t milestone_every = 0;  // also keep steps that are multiples of this (0 = none)
};

// "step-00001200.h5" (pure).
std::string step_file_name(std::int64_t step);
// The step of a checkpoint file name, or nullopt for other names (temporaries, `latest`).
std::optional<std::int64_t> step_of_file_name(const std::string& name);
// Which of `steps` retention deletes (pure; `steps` in any order).
std::vector<std::int64_t> steps_to_delete(std::vector<std::int64_t> steps, const RetentionOptions& r);

struct ResumePoint {
  std::string path;
  Checkpoint checkpoint;                 // verified
  std::vector<std::string> skipped;      // "<file>: <why>" for newer checkpoints that did not verify
};

class Store {
 public:
  explicit Store(std::string dir);  // creates the directory if needed (Error if not writable)

  const std::string& dir() const { return dir_; }
  // Existing checkpoint steps, ascending.
  std::vector<std::int64_t> steps() const;
  // The file `latest` points to, if any.
  std::optional<std::string> latest() const;

  // Writes the checkpoint, then moves `latest` to it, then applies retention; returns its path.
  std::string save(const Checkpoint& c, const RetentionOptions& r, const WriteHook& hook = {});

  // Newest checkpoint that reads and verifies, or nullopt when there is none (fresh run). Damaged ones are
  // listed in `skipped`. Throws only when checkpoints exist but none verifies.
  std::optional<ResumePoint> newest_valid() const;

  // Removes temporaries left by a process killed mid-write (only ours: "<name>.tmp.<pid>.<n>").
  void remove_stale_temporaries() const;

 private:
  std::string dir_;
};

// Keys whose values differ between two "key = value" lists (pure), as "key: 'a' -> 'b'" lines.
std::vector<std::string> config_differences(const std::vector<std::string>& saved, const std::vector<std::string>& now);

// Stable digest of "key = value" entries (pure; order-independent).
std::string config_digest(const std::vector<std::string>& entries);

}  // namespace sdn::ckpt

// Rank-aware logging on top of spdlog: every line shows time, level, rank/world and host.
// The level and the optional per-run log file come from the config; nothing here reads the environment.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace sdn::log {

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|off
  std::string file;            // also append to this file when set (e.g. RUN/logs/train.log)
  bool quiet_non_zero = true;  // ranks other than 0 log warnings and errors only
};

// (Re)configures the default logger; call after set_process_identity(). Throws UsageError on a bad level.
void init(const LogOptions& options);

// Console-only logging at `level`.
inline void init(const std::string& level) {
  LogOptions o;
  o.level = level;
  init(o);
}

// Accepted level names, for config validation.
bool is_valid_level(const std::string& level);

}  // namespace sdn::log

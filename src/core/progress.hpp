// Progress reporting for long commands (pack, bench, status): a redrawn bar on a terminal, periodic
// plain lines in a log (Slurm output files are not terminals). The text is a pure function, tested directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace sdn {

// "label [#########.........] 120/400  30%  45.2 it/s  ETA 00:00:06"
std::string format_progress(const std::string& label, std::int64_t done, std::int64_t total, double elapsed_s,
                            int bar_width = 24);

// Thread-safe: workers call add(); output is throttled.
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::FILE* out = stderr);
  void add(std::int64_t n = 1);
  void finish();
  ~Progress();

 private:
  void draw(bool final_line);

  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  std::FILE* out_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

}  // namespace sdn

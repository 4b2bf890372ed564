// Implements the progress bar (see progress.hpp).
#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>

#include "core/parse.hpp"

namespace sdn {

std::string format_progress(const std::string& label, std::int64_t done, std::int64_t total, double elapsed_s,
                            int bar_width) {
  double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  if (frac > 1) frac = 1;
  int filled = static_cast<int>(std::floor(frac * bar_width));
  std::string bar = std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(bar_width - filled), '.');
  double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::string eta = "--:--:--";
  if (rate > 0 && done <= total)
    eta = parse::format_walltime(static_cast<std::int64_t>(std::ceil(static_cast<double>(total - done) / rate)));
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s [%s] %lld/%lld %3d%% %7.1f it/s  ETA %s", label.c_str(), bar.c_str(),
                static_cast<long long>(done), static_cast<long long>(total), static_cast<int>(frac * 100), rate,
                eta.c_str());
  return buf;
}

Progress::Progress(std::string label, std::int64_t total, std::FILE* out)
    : label_(std::move(label)), total_(total), out_(out), tty_(out && isatty(fileno(out))),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::add(std::int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  auto min_gap = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_draw_ >= min_gap) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

Progress::~Progress() { finish(); }

void Progress::draw(bool final_line) {
  if (!out_) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = format_progress(label_, done_, total_, elapsed);
  if (tty_)
    std::fprintf(out_, "\r%s%s", line.c_str(), final_line ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace sdn

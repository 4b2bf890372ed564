// Implements `sdn status` rendering (see status_view.hpp).
#include "slurm/status_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/parse.hpp"
#include "slurm/plan.hpp"

namespace sdn::slurm {

std::string clock_text(double t) {
  if (t <= 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%m-%d %H:%M:%S", &tm);
  return buf;
}

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::string progress_bar(std::int64_t done, std::int64_t total) {
  const int width = 24;
  const double frac = total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0.0;
  const int filled = static_cast<int>(std::floor(frac * width));
  char buf[96];
  std::snprintf(buf, sizeof buf, "[%s%s] %lld/%lld %3d%%", std::string(filled, '#').c_str(),
                std::string(width - filled, '.').c_str(), (long long)done, (long long)total, (int)(frac * 100));
  return buf;
}

namespace {

// Steps done and to do, and the seconds left at the newest chunk's rate (-1: unknown or not going on).
struct Remaining {
  std::int64_t step = 0, total = 0;
  double eta_s = -1;
};

Remaining remaining(const StatusInputs& in, const std::string& phase) {
  Remaining r;
  const auto& s = in.state;
  r.total = s.total_steps > 0 ? s.total_steps : in.plan.total_steps;
  r.step = std::max(in.latest_step, s.progress.empty() ? 0 : s.progress.back().step);
  const double rate = recent_steps_per_s(s);
  // Only a run that will go on has an ETA; a stopped one waits for `sdn submit`.
  if (rate > 0 && r.total > r.step && (phase == "running" || phase == "pending"))
    r.eta_s = static_cast<double>(r.total - r.step) / rate;
  return r;
}

}  // namespace

std::string run_phase(const StatusInputs& in) {
  const auto& s = in.state;
  if (s.complete) return "complete";
  if (s.cancelled && in.queue.empty()) return "cancelled";
  if (s.stopped && in.queue.empty()) return "stopped";
  for (const auto& q : in.queue)
    if (q.state == "RUNNING" || q.state == "COMPLETING") return "running";
  if (!in.queue.empty()) return "pending";
  if (s.submit_time == 0) return "planned";
  return "stalled";
}

double recent_steps_per_s(const RunState& s) {
  const double chunk_start = s.chunks.empty() ? 0 : s.chunks.back().start;
  const ProgressPoint* first = nullptr;
  const ProgressPoint* last = nullptr;
  for (const auto& p : s.progress) {
    if (p.time < chunk_start) continue;
    if (!first) first = &p;
    last = &p;
  }
  if (!first || first == last || last->time <= first->time) return 0;
  return static_cast<double>(last->step - first->step) / (last->time - first->time);
}

std::string render_status(const StatusInputs& in) {
  const auto& s = in.state;
  const auto& p = in.plan;
  std::string o;
  o += "run " + in.run_dir + "\n";
  o += "  stage " + p.stage + " on " + p.cluster + ", mode " + p.mode + (p.reshape ? " (reshaping; current shape)" : "") +
       ", " + p.partition + " x " + std::to_string(p.gpus) + " GPUs, " + parse::format_walltime(p.walltime_s) +
       " per job, USR2 " + std::to_string(p.grace_s) + " s before the limit\n";
  const std::string phase = run_phase(in);
  const Remaining left = remaining(in, phase);
  o += "  steps " + progress_bar(left.step, left.total) + "  (checkpoint at step " + std::to_string(in.latest_step) +
       ")\n";

  o += "  state: " + phase;
  if (phase == "running" || phase == "pending") {
    for (const auto& q : in.queue)
      o += "\n    job " + q.job_id + " " + q.state + " " + q.reason + " (partition " + q.partition +
           (q.state == "PENDING" ? ", expected start " + q.start : ", ends " + q.end) + ")";
  } else if (phase == "complete") {
    o += " at " + clock_text(s.end_time);
  } else if (phase == "stopped" || phase == "cancelled") {
    o += " (" + (s.end_reason.empty() ? std::string("cancelled") : s.end_reason) + ")" +
         (s.end_message.empty() ? std::string() : "\n    why: " + s.end_message);
  } else if (phase == "stalled") {
    const bool killed = !s.chunks.empty() && s.chunks.back().end == 0;
    o += "\n    no job of this run is queued and it is not finished" +
         std::string(killed ? ": the last job ended without recording its end (time limit or node failure?)" : "") +
         "\n    `sdn submit " + in.run_dir + "` resumes from the last checkpoint";
  } else if (phase == "planned") {
    o += "\n    submit it with: sdn submit " + in.run_dir;
  }
  o += "\n";

  if (!s.progress.empty()) {
    const auto& last = s.progress.back();
    o += "  images/s " + fmt("%.1f", last.images_per_s) + ", last loss " + fmt("%.4f", last.loss) + " at step " +
         std::to_string(last.step);
    if (left.eta_s >= 0) o += ", ETA " + format_span(static_cast<std::int64_t>(left.eta_s)) + " of training";
    o += "\n";
  }
  if (!s.chunks.empty()) {
    o += "  chunks (" + std::to_string(s.chunks_since_submit) + " of at most " + std::to_string(p.max_chunks) +
         " since the last submit, " + std::to_string(p.chunks) + " planned):\n";
    char line[256];
    std::snprintf(line, sizeof line, "    %3s %-10s %7s %-10s %5s %-14s %-14s %19s %5s  %s\n", "#", "job", "restart", "node",
                  "ranks", "start", "end", "steps", "exit", "result");
    o += line;
    for (std::size_t i = 0; i < s.chunks.size(); ++i) {
      const auto& c = s.chunks[i];
      const bool open = c.end == 0;
      const bool last = i + 1 == s.chunks.size();
      std::string steps = std::to_string(c.step_start) + " -> " + (c.step_end >= 0 ? std::to_string(c.step_end) : "?");
      std::string result = open ? (last && phase == "running" ? "running" : "no end recorded") : c.action + " (" + c.reason + ")";
      std::snprintf(line, sizeof line, "    %3zu %-10s %7d %-10s %5s %-14s %-14s %19s %5s  %s\n", i + 1, c.job_id.c_str(),
                    c.restart, c.node.c_str(), c.ranks > 0 ? std::to_string(c.ranks).c_str() : "-", clock_text(c.start).c_str(), open ? "-" : clock_text(c.end).c_str(),
                    steps.c_str(), open ? "-" : std::to_string(c.exit_code).c_str(), result.c_str());
      o += line;
    }
  }
  return o;
}

std::string render_status_line(const StatusInputs& in) {
  const std::string phase = run_phase(in);
  const Remaining left = remaining(in, phase);
  const int pct = left.total > 0 ? static_cast<int>(std::min<std::int64_t>(100, left.step * 100 / left.total)) : 0;
  std::string o = phase + " step " + std::to_string(left.step) + "/" + std::to_string(left.total) + " " +
                  std::to_string(pct) + "% ETA " +
                  (left.eta_s >= 0 ? format_span(static_cast<std::int64_t>(left.eta_s)) : std::string("-"));
  std::string jobs;
  for (const auto& q : in.queue)
    if (q.state == "RUNNING" || q.state == "COMPLETING" || jobs.empty())
      jobs = q.job_id + " " + q.state + (q.state == "PENDING" && !q.reason.empty() ? " (" + q.reason + ")" : "");
  return o + " job " + (jobs.empty() ? std::string("-") : jobs);
}

}  // namespace sdn::slurm

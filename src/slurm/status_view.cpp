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
  const std::int64_t total = s.total_steps > 0 ? s.total_steps : p.total_steps;
  const std::int64_t step = std::max(in.latest_step, s.progress.empty() ? 0 : s.progress.back().step);
  o += "  steps " + progress_bar(step, total) + "  (checkpoint at step " + std::to_string(in.latest_step) + ")\n";

  const std::string phase = run_phase(in);
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
    const double rate = recent_steps_per_s(s);
    o += "  images/s " + fmt("%.1f", last.images_per_s) + ", last loss " + fmt("%.4f", last.loss) + " at step " +
         std::to_string(last.step);
    if (rate > 0 && total > step && phase != "complete")
      o += ", ETA " + format_span(static_cast<std::int64_t>((total - step) / rate)) + " of training";
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

namespace {

// A small SVG canvas with a plot area and two labelled axes.
struct Canvas {
  double w = 720, h = 360, left = 70, right = 20, top = 40, bottom = 50;
  std::string body;
  double px(double fx) const { return left + fx * (w - left - right); }
  double py(double fy) const { return h - bottom - fy * (h - top - bottom); }
  std::string finish(const std::string& title, const std::string& xlabel, const std::string& x0, const std::string& x1,
                     const std::string& ylabel, const std::string& y0, const std::string& y1) const {
    std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", w) + "\" height=\"" +
                    fmt("%.0f", h) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    o += "<text x=\"" + fmt("%.0f", w / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + title + "</text>\n";
    o += "<line x1=\"" + fmt("%.1f", px(0)) + "\" y1=\"" + fmt("%.1f", py(0)) + "\" x2=\"" + fmt("%.1f", px(1)) +
         "\" y2=\"" + fmt("%.1f", py(0)) + "\" stroke=\"black\"/>\n";
    o += "<line x1=\"" + fmt("%.1f", px(0)) + "\" y1=\"" + fmt("%.1f", py(0)) + "\" x2=\"" + fmt("%.1f", px(0)) +
         "\" y2=\"" + fmt("%.1f", py(1)) + "\" stroke=\"black\"/>\n";
    auto text = [&](double x, double y, const std::string& anchor, const std::string& t) {
      return "<text x=\"" + fmt("%.1f", x) + "\" y=\"" + fmt("%.1f", y) + "\" text-anchor=\"" + anchor + "\">" + t +
             "</text>\n";
    };
    o += text(px(0), py(0) + 16, "start", x0) + text(px(1), py(0) + 16, "end", x1) +
         text(px(0.5), h - 12, "middle", xlabel);
    o += text(px(0) - 6, py(0), "end", y0) + text(px(0) - 6, py(1) + 4, "end", y1) +
         "<text x=\"16\" y=\"" + fmt("%.1f", py(0.5)) + "\" transform=\"rotate(-90 16 " + fmt("%.1f", py(0.5)) +
         ")\" text-anchor=\"middle\">" + ylabel + "</text>\n";
    return o + body + "</svg>\n";
  }
};

}  // namespace

std::string render_loss_svg(const RunState& s) {
  Canvas c;
  if (s.progress.empty()) {
    c.body = "<text x=\"360\" y=\"180\" text-anchor=\"middle\">no progress events in the journal yet</text>\n";
    return c.finish("training loss", "step", "", "", "loss", "", "");
  }
  std::int64_t s0 = s.progress.front().step, s1 = s0;
  double l0 = s.progress.front().loss, l1 = l0;
  for (const auto& p : s.progress) {
    s0 = std::min(s0, p.step), s1 = std::max(s1, p.step);
    l0 = std::min(l0, p.loss), l1 = std::max(l1, p.loss);
  }
  const double sx = s1 > s0 ? static_cast<double>(s1 - s0) : 1.0, sy = l1 > l0 ? l1 - l0 : 1.0;
  std::string pts;
  for (const auto& p : s.progress)
    pts += fmt("%.1f", c.px((p.step - s0) / sx)) + "," + fmt("%.1f", c.py((p.loss - l0) / sy)) + " ";
  c.body = "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"" + pts + "\"/>\n";
  // Chunk boundaries as dashed lines at the step each chunk started from.
  for (const auto& ch : s.chunks)
    if (ch.step_start > s0 && ch.step_start < s1) {
      double x = c.px((ch.step_start - s0) / sx);
      c.body += "<line x1=\"" + fmt("%.1f", x) + "\" y1=\"" + fmt("%.1f", c.py(0)) + "\" x2=\"" + fmt("%.1f", x) +
                "\" y2=\"" + fmt("%.1f", c.py(1)) + "\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n";
    }
  return c.finish("training loss (dashed: chunk starts)", "step", std::to_string(s0), std::to_string(s1), "loss",
                  fmt("%.4g", l0), fmt("%.4g", l1));
}

std::string render_timeline_svg(const RunState& s, double now) {
  Canvas c;
  if (s.chunks.empty()) {
    c.body = "<text x=\"360\" y=\"180\" text-anchor=\"middle\">no chunks in the journal yet</text>\n";
    return c.finish("jobs", "time", "", "", "chunk", "", "");
  }
  const double t0 = s.chunks.front().start;
  double t1 = t0 + 1;
  for (const auto& ch : s.chunks) t1 = std::max(t1, ch.end > 0 ? ch.end : now);
  const double n = static_cast<double>(s.chunks.size());
  for (std::size_t i = 0; i < s.chunks.size(); ++i) {
    const auto& ch = s.chunks[i];
    const double a = (ch.start - t0) / (t1 - t0), b = ((ch.end > 0 ? ch.end : now) - t0) / (t1 - t0);
    const std::string color = ch.end == 0 ? "#bbbbbb" : ch.action == "continue" ? "#1f77b4"
                              : ch.action == "done"                           ? "#2ca02c"
                                                                              : "#d62728";
    const double y = c.py(1 - (i + 1) / n), hgt = std::max(4.0, (c.py(0) - c.py(1)) / n - 6);
    c.body += "<rect x=\"" + fmt("%.1f", c.px(a)) + "\" y=\"" + fmt("%.1f", y) + "\" width=\"" +
              fmt("%.1f", std::max(1.0, c.px(b) - c.px(a))) + "\" height=\"" + fmt("%.1f", hgt) + "\" fill=\"" + color +
              "\"><title>job " + ch.job_id + " restart " + std::to_string(ch.restart) + ": steps " +
              std::to_string(ch.step_start) + "-" + std::to_string(ch.step_end) + " " + ch.action + "</title></rect>\n";
    c.body += "<text x=\"" + fmt("%.1f", c.px(b) + 4) + "\" y=\"" + fmt("%.1f", y + hgt / 2 + 4) + "\">job " +
              ch.job_id + (ch.restart > 0 ? " r" + std::to_string(ch.restart) : "") + "</text>\n";
  }
  return c.finish("job timeline (blue: continue, green: done, red: stop, grey: no end record)", "time",
                  clock_text(t0), clock_text(t1), "chunk", std::to_string(s.chunks.size()), "1");
}

}  // namespace sdn::slurm

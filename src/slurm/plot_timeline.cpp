// The job timeline's gnuplot script (see plots.hpp): one row per stage, one bar per chunk coloured by outcome,
// ticks at round local clock times computed here (gnuplot's own time axis would print UTC).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "slurm/plot_gnuplot.hpp"

namespace sdn::slurm::gp {
namespace {

std::string clock(double local_seconds, const char* format) {
  std::time_t t = static_cast<std::time_t>(std::floor(local_seconds));
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string utc_offset_text(long off) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "UTC%c%02ld:%02ld", off < 0 ? '-' : '+', std::labs(off) / 3600,
                (std::labs(off) % 3600) / 60);
  return buf;
}

struct Bar {
  double start = 0, end = 0;
  std::string outcome;
  std::string label;
};

double bar_end(const RunState& s, std::size_t i, const std::string& outcome, double now) {
  const auto& c = s.chunks[i];
  if (outcome == "running") return std::max(c.start, now);
  if (outcome == "lost") {
    // Its recorded end (if any) is when the next chunk noticed; the job's last sign of life is its last report.
    const double limit = c.end > 0 ? c.end : (i + 1 < s.chunks.size() ? s.chunks[i + 1].start : now);
    double last = 0;
    for (const auto& p : s.progress)
      if (p.time >= c.start && p.time <= limit) last = std::max(last, p.time);
    return last > 0 ? last : (c.end > 0 ? c.end : c.start);
  }
  return std::max(c.start, c.end);
}

const char* outcome_colour(const std::string& outcome) {
  if (outcome == "continue") return "#1f77b4";
  if (outcome == "done") return "#2ca02c";
  if (outcome == "lost") return "#ff7f0e";
  if (outcome == "running") return "#9a9a9a";
  return "#d62728";
}

const char* outcome_title(const std::string& outcome) {
  if (outcome == "continue") return "continue (checkpointed)";
  if (outcome == "done") return "done";
  if (outcome == "lost") return "lost (no end recorded)";
  if (outcome == "running") return "running";
  return "stop";
}

int rgb_value(const char* hex) { return static_cast<int>(std::strtol(hex + 1, nullptr, 16)); }

// Ticks at round local times: the smallest step that gives at most 10 ticks over the span.
std::vector<std::pair<double, std::string>> time_ticks(double x0, double x1, double origin, long off) {
  static const double steps[] = {1,    2,    5,    10,    15,    30,    60,    120,    300,    600,   900,
                                 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000};
  double step = steps[sizeof steps / sizeof steps[0] - 1];
  for (double s : steps)
    if ((x1 - x0) / s <= 10) {
      step = s;
      break;
    }
  const char* format = step < 60 ? "%H:%M:%S" : step < 86400 ? "%H:%M" : "%m-%d";
  std::vector<std::pair<double, std::string>> ticks;
  std::string last_day;
  for (double l = std::ceil((origin + x0 + off) / step) * step; l - off - origin <= x1; l += step) {
    std::string label = clock(l, format);
    const std::string day = clock(l, "%m-%d");
    if (step < 86400 && day != last_day) label += "\n" + day;
    last_day = day;
    ticks.emplace_back(l - off - origin, label);
  }
  return ticks;
}

}  // namespace

std::string timeline_script(const std::vector<PlotStage>& stages, double now, long off, Files& files) {
  const std::size_t n = std::max<std::size_t>(1, stages.size());
  const int height = 150 + 70 * static_cast<int>(n);
  std::string o = "# Jobs per stage, drawn from the journal by `sdn status --plot`.\n"
                  "# Rerun here with `gnuplot timeline.gp` (writes timeline.svg and timeline.png).\n";
  std::vector<std::vector<Bar>> rows(stages.size());
  double t0 = 0, t1 = 0;
  bool any = false, running = false;
  std::vector<std::string> outcomes;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const RunState& s = stages[i].state;
    for (std::size_t k = 0; k < s.chunks.size(); ++k) {
      Bar b;
      b.outcome = chunk_outcome(s, k);
      b.start = s.chunks[k].start;
      b.end = bar_end(s, k, b.outcome, now);
      b.label = chunk_label(s.chunks[k]);
      t0 = any ? std::min(t0, b.start) : b.start;
      t1 = any ? std::max(t1, b.end) : b.end;
      any = true;
      running = running || b.outcome == "running";
      if (std::find(outcomes.begin(), outcomes.end(), b.outcome) == outcomes.end()) outcomes.push_back(b.outcome);
      rows[i].push_back(b);
    }
  }
  o += terminals_begin("timeline", height);
  o += "  set title \"Jobs per stage: one bar per job, from its start to its end\"\n";
  o += "  set yrange [-0.7:" + num(static_cast<double>(n) - 0.3) + "]\n";
  std::string ytics;
  for (std::size_t i = 0; i < stages.size(); ++i)
    ytics += std::string(i ? ", " : "") +
             gp_lines(stages[i].name + "\n(" + std::to_string(rows[i].size()) + " job" +
                              (rows[i].size() == 1 ? "" : "s") + ")") +
             " " + std::to_string(n - 1 - i);
  o += ytics.empty() ? "  unset ytics\n" : "  set ytics nomirror (" + ytics + ")\n";
  if (!any) {
    o += "  set xrange [0:1]\n  unset xtics\n  set label 1 \"no jobs recorded yet\" at graph 0.5, graph 0.5 center\n";
    return o + "  plot NaN notitle\n" + kTerminalsEnd;
  }
  // x is seconds since the first start; a margin of 3% keeps the first and last bars off the border.
  const double span = std::max(60.0, t1 - t0);
  const double x0 = -0.03 * span, x1 = t1 - t0 + 0.03 * span;
  std::string xtics;
  for (const auto& [x, label] : time_ticks(x0, x1, t0, off))
    xtics += std::string(xtics.empty() ? "" : ", ") + gp_lines(label) + " " + num(x);
  o += "  set xrange [" + num(x0) + ":" + num(x1) + "]\n";
  o += "  set xtics nomirror (" + xtics + ")\n";
  o += "  set grid xtics lc rgb \"#e0e0e0\"\n";
  o += "  set xlabel " + gp_string("local time (" + utc_offset_text(off) + "); first job started " +
                                clock(t0 + off, "%Y-%m-%d %H:%M:%S")) + "\n";
  o += "  set key outside below center horizontal Left reverse\n";
  if (running) o += "  set arrow 1 from " + num(now - t0) + ", graph 0 to " + num(now - t0) +
                    ", graph 1 nohead dt 3 lc rgb \"#444444\"\n";

  // Labels above their bars, only where they fit (about 6.5 px per character over ~800 px of plot width).
  std::string data = "# start end (seconds since " + num(t0) + ") row rgb outcome label\n";
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (const Bar& b : rows[i]) {
      const double bar_px = (b.end - b.start) / (x1 - x0) * 800;
      std::string label = b.label;  // "job 7 (restart 1)", else "job 7", else "7", else none
      if (label.size() * 6.5 > bar_px) label = label.substr(0, label.find(' ', 4));
      if (label.size() * 6.5 > bar_px) label = label.substr(4);
      if (label.size() * 6.5 > bar_px) label.clear();
      data += num(b.start - t0) + " " + num(b.end - t0) + " " + std::to_string(n - 1 - i) + " " +
              std::to_string(rgb_value(outcome_colour(b.outcome))) + " " + b.outcome + " " + gp_string(label) + "\n";
    }
  files.emplace_back("timeline.dat", data);
  o += "  plot \"timeline.dat\" using (($1+$2)/2):3:(($2-$1)/2):(0.3):4 with boxxyerror fs solid 1.0 border lc rgb "
       "\"#333333\" fc rgb variable notitle, \\\n"
       "       \"\" using (($1+$2)/2):($3+0.42):6 with labels font \",9\" notitle";
  for (const char* w : {"continue", "done", "stop", "lost", "running"})
    if (std::find(outcomes.begin(), outcomes.end(), w) != outcomes.end())
      o += std::string(", \\\n       keyentry with boxes fs solid 1.0 border lc rgb \"#333333\" fc rgb \"") +
           outcome_colour(w) + "\" title " + gp_string(outcome_title(w));
  if (running)
    o += ", \\\n       keyentry with lines dt 3 lc rgb \"#444444\" title " +
         gp_string("now (" + clock(now + off, "%H:%M:%S") + ")");
  return o + "\n" + kTerminalsEnd;
}

}  // namespace sdn::slurm::gp

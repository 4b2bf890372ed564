// Implements the gnuplot sources of the loss and timeline plots (see plots.hpp).
#include "slurm/plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

#include "core/parse.hpp"

namespace sdn::slurm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kWidth = 960;
// tab10: distinguishable, and the timeline's outcome colours come from the same family.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string short_num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A gnuplot double-quoted string ("\n" stays a line break).
std::string gp_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string gp_lines(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

// One loop writes both files; pngcairo draws the same fonts as the SVG, gd's png is the fallback where gnuplot was
// built without cairo.
std::string terminals_begin(const std::string& base, int height) {
  const std::string size = "size " + std::to_string(kWidth) + "," + std::to_string(height);
  return "do for [fmt in \"svg png\"] {\n"
         "  if (fmt eq \"svg\") {\n"
         "    set terminal svg " + size + " font \"Sans,12\" noenhanced background rgb \"white\"\n"
         "  } else {\n"
         "    if (strstrt(GPVAL_TERMINALS, \" pngcairo \") > 0) {\n"
         "      set terminal pngcairo " + size + " font \"Sans,10\" noenhanced background rgb \"white\"\n"
         "    } else {\n"
         "      set terminal png " + size + " noenhanced\n"
         "    }\n"
         "  }\n"
         "  set output \"" + base + ".\" . fmt\n";
}

const std::string kTerminalsEnd = "  unset output\n}\n";

// --- loss ---------------------------------------------------------------------------------------------------

struct Curve {
  std::vector<std::string> terms;
  std::vector<std::int64_t> steps;
  std::vector<std::vector<double>> values;
  std::string source;  // for the panel title
};

// Keeps the rows a resumed run kept: a step not above the previous one replaces everything from that step on.
void append_row(std::vector<std::int64_t>& steps, std::vector<std::vector<double>>& values, std::int64_t step,
                std::vector<double> row) {
  while (!steps.empty() && steps.back() >= step) steps.pop_back(), values.pop_back();
  steps.push_back(step);
  values.push_back(std::move(row));
}

// Means over equal runs of rows (positive finite values only: the axis is logarithmic); the step of a run is its last.
Curve binned(Curve c, std::size_t max_points, std::size_t& run) {
  run = 1;
  if (c.steps.size() <= max_points) return c;
  run = (c.steps.size() + max_points - 1) / max_points;
  Curve o;
  o.terms = c.terms;
  o.source = c.source;
  for (std::size_t b = 0; b < c.steps.size(); b += run) {
    const std::size_t e = std::min(c.steps.size(), b + run);
    std::vector<double> mean(c.terms.size(), kNaN);
    for (std::size_t t = 0; t < c.terms.size(); ++t) {
      double sum = 0;
      int n = 0;
      for (std::size_t r = b; r < e; ++r)
        if (std::isfinite(c.values[r][t]) && c.values[r][t] > 0) sum += c.values[r][t], ++n;
      if (n > 0) mean[t] = sum / n;
    }
    o.steps.push_back(c.steps[e - 1]);
    o.values.push_back(std::move(mean));
  }
  return o;
}

Curve curve_of(const PlotStage& st) {
  Curve c;
  if (!st.metrics.steps.empty()) {
    c.terms = st.metrics.terms;
    c.steps = st.metrics.steps;
    c.values = st.metrics.values;
    c.source = "logs/metrics.tsv";
    return c;
  }
  c.terms = {"loss"};
  c.source = "journal progress events";
  for (const auto& p : st.state.progress) append_row(c.steps, c.values, p.step, {p.loss});
  return c;
}

// Log axis from lo to hi (both > 0): bounds on a 1-1.5-2-3-5-7 grid, then the densest set of labelled mantissas
// (1..9, 1-2-3-5-7, 1-2-5, decades, every k-th decade) whose labels stay kMinTickGapPx apart on a panel about
// kPanelPx tall, so the reader never has to guess a value; the other integer mantissas become minor ticks.
constexpr double kPanelPx = 200, kMinTickGapPx = 18;

std::string log_axis(char axis, double lo, double hi) {
  static const double grid[] = {1, 1.5, 2, 3, 5, 7};
  auto below = [](double v) {
    const double d = std::pow(10.0, std::floor(std::log10(v)));
    double best = d;
    for (double m : grid)
      if (m * d <= v * (1 + 1e-12)) best = m * d;
    return best;
  };
  auto above = [](double v) {
    const double d = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : grid)
      if (m * d >= v * (1 - 1e-12)) return m * d;
    return 10 * d;
  };
  double a = below(lo), b = above(hi);
  if (b <= a * (1 + 1e-12)) a = below(a * 0.99), b = above(b * 1.01);
  const double px_per_decade = kPanelPx / std::log10(b / a);
  const int k0 = static_cast<int>(std::floor(std::log10(a))), k1 = static_cast<int>(std::ceil(std::log10(b)));
  // Ticks in [a, b] with mantissa in `ms` (decades k with k % every == 0 only, for m == 1).
  auto ticks = [&](const std::vector<int>& ms, int every) {
    std::vector<std::pair<double, int>> t;  // value, mantissa
    for (int k = k0; k <= k1; ++k)
      for (int m : ms) {
        const double v = std::stod(short_num(m * std::pow(10.0, k)));  // 3 * 0.1 is not 0.3 otherwise
        if (v >= a * (1 - 1e-12) && v <= b * (1 + 1e-12) && (m > 1 || k % every == 0)) t.emplace_back(v, m);
      }
    return t;
  };
  auto spaced = [&](const std::vector<std::pair<double, int>>& t) {
    for (std::size_t i = 1; i < t.size(); ++i)
      if (std::log10(t[i].first / t[i - 1].first) * px_per_decade < kMinTickGapPx) return false;
    return true;
  };
  std::vector<std::pair<double, int>> labelled;
  for (const auto& ms : std::vector<std::vector<int>>{{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 5, 7}, {1, 2, 5}})
    if (labelled.empty() && spaced(ticks(ms, 1))) labelled = ticks(ms, 1);
  int every = 1;
  while (labelled.empty() && !spaced(labelled = ticks({1}, every))) labelled.clear(), ++every;
  std::string major, minor;
  for (const auto& [v, m] : labelled) major += gp_string(short_num(v)) + " " + short_num(v) + ", ";
  if (every == 1)  // minor ticks only where a decade is tall enough to show them apart
    for (const auto& [v, m] : ticks({1, 2, 3, 4, 5, 6, 7, 8, 9}, 1))
      if (std::none_of(labelled.begin(), labelled.end(), [&](const auto& l) { return l.first == v; }))
        minor += "\"\" " + short_num(v) + " 1, ";
  const std::string x(1, axis);
  std::string o = "  set logscale " + x + " 10\n";
  o += "  set " + x + "range [" + short_num(a) + ":" + short_num(b) + "]\n";
  if (!major.empty()) o += "  set " + x + "tics (" + major.substr(0, major.size() - 2) + ")\n";
  if (!minor.empty()) o += "  set " + x + "tics add (" + minor.substr(0, minor.size() - 2) + ")\n";
  return o;
}

std::string chunk_label(const ChunkRecord& c) {
  return "job " + (c.job_id.empty() ? std::string("?") : c.job_id) +
         (c.restart > 0 ? " (restart " + std::to_string(c.restart) + ")" : "");
}

std::string loss_panel(const PlotStage& st, std::size_t index, std::vector<std::pair<std::string, std::string>>& files) {
  std::size_t run = 1;
  const Curve c = binned(curve_of(st), kMaxLossPoints, run);
  std::string o = "  # stage " + std::to_string(index) + ": " + st.name + "\n";
  o += "  unset arrow\n  unset label\n  unset logscale\n";
  double lo = 0, hi = 0;
  for (const auto& row : c.values)
    for (double v : row)
      if (std::isfinite(v) && v > 0) lo = lo > 0 ? std::min(lo, v) : v, hi = std::max(hi, v);
  if (hi <= 0) {
    o += "  set title " + gp_string(st.name + ": no loss recorded yet") + "\n";
    o += log_axis('y', 0.1, 10);
    o += "  set xrange [0:" + num(st.state.total_steps > 0 ? static_cast<double>(st.state.total_steps) : 1.0) + "]\n";
    o += "  set label 1 \"no loss recorded yet\" at graph 0.5, graph 0.5 center\n";
    return o + "  plot NaN notitle\n";
  }
  const std::string file = "loss-" + std::to_string(index) + ".dat";
  std::string data = "# " + st.name + ": loss terms per step from " + c.source +
                     (run > 1 ? " (mean of each " + std::to_string(run) + " steps)" : "") + "\n# step";
  for (const auto& t : c.terms) data += " " + t;
  data += "\n";
  for (std::size_t r = 0; r < c.steps.size(); ++r) {
    data += std::to_string(c.steps[r]);
    for (double v : c.values[r]) data += " " + (std::isfinite(v) && v > 0 ? num(v) : std::string("NaN"));
    data += "\n";
  }
  files.emplace_back(file, data);

  double x0 = static_cast<double>(c.steps.front()), x1 = static_cast<double>(c.steps.back());
  for (const auto& ch : st.state.chunks) x0 = std::min(x0, static_cast<double>(ch.step_start));
  if (x1 <= x0) x1 = x0 + 1;
  o += "  set title " + gp_string(st.name + ": " + c.source +
                               (run > 1 ? ", mean of each " + std::to_string(run) + " steps" : "")) + "\n";
  o += log_axis('y', lo, hi);
  o += "  set xrange [" + num(x0) + ":" + num(x1) + "]\n";
  // A dashed line where each job started (from its checkpoint step), labelled inside the plot; a label that
  // would overlap the previous one is left out (the line stays).
  int n = 0;
  double last_label = -1e300;
  for (const auto& ch : st.state.chunks) {
    const double x = static_cast<double>(ch.step_start);
    if (x < x0 || x > x1) continue;
    ++n;
    o += "  set arrow " + std::to_string(n) + " from " + num(x) + ", graph 0 to " + num(x) +
         ", graph 1 nohead dt 2 lc rgb \"#666666\"\n";
    if (x - last_label < 0.04 * (x1 - x0)) continue;
    last_label = x;
    o += "  set label " + std::to_string(n) + " " + gp_string(chunk_label(ch)) + " at " + num(x) +
         ", graph 0.97 right rotate by 90 offset 1,0 tc rgb \"#444444\" font \",9\"\n";
  }
  o += "  plot ";
  for (std::size_t t = 0; t < c.terms.size(); ++t)
    o += std::string(t ? ", \\\n       " : "") + (t ? "\"\"" : gp_string(file)) + " using 1:" + std::to_string(t + 2) +
         " with lines lt " + std::to_string(t % 10 + 1) + " title " + gp_string(c.terms[t]);
  return o + "\n";
}

std::string loss_script(const std::vector<PlotStage>& stages, std::vector<std::pair<std::string, std::string>>& files) {
  const int height = 80 + 300 * static_cast<int>(std::max<std::size_t>(1, stages.size()));
  std::string o = "# Training loss per stage, drawn from the journal and logs/metrics.tsv by `sdn status --plot`.\n"
                  "# Rerun here with `gnuplot loss.gp` (writes loss.svg and loss.png).\n";
  o += "set datafile missing NaN\n";
  for (int i = 0; i < 10; ++i)
    o += "set linetype " + std::to_string(i + 1) + " lc rgb \"" + kPalette[i] + "\" lw 1.5 dt solid\n";
  o += "set linetype cycle 10\n";
  o += terminals_begin("loss", height);
  o += "  set multiplot layout " + std::to_string(std::max<std::size_t>(1, stages.size())) +
       ",1 title \"Training loss per stage (log scale; dashed: a job starts from its checkpoint)\"\n";
  o += "  set xlabel \"step\"\n  set ylabel \"loss\"\n  set format x \"%g\"\n";
  o += "  set grid xtics ytics mytics lc rgb \"#e5e5e5\" lw 1, lc rgb \"#f2f2f2\" lw 1\n";
  // Equal margins on every panel keep the step axes aligned; the right one holds the key (sample + widest term).
  std::size_t widest = 4;
  for (const auto& st : stages)
    for (const auto& t : st.metrics.steps.empty() ? std::vector<std::string>{"loss"} : st.metrics.terms)
      widest = std::max(widest, t.size());
  o += "  set lmargin 10\n  set rmargin " + std::to_string(widest + 9) + "\n";
  o += "  set key outside right top vertical Left reverse\n";
  if (stages.empty()) {
    o += "  set title \"no stages\"\n" + log_axis('y', 0.1, 10) + "  set xrange [0:1]\n  plot NaN notitle\n";
  }
  for (std::size_t i = 0; i < stages.size(); ++i) o += loss_panel(stages[i], i + 1, files);
  return o + "  unset multiplot\n" + kTerminalsEnd;
}

// --- timeline -----------------------------------------------------------------------------------------------

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
  if (outcome == "continue") return "continue (checkpoint; the next job resumes)";
  if (outcome == "done") return "done";
  if (outcome == "lost") return "lost (killed; bar ends at its last report)";
  if (outcome == "running") return "running";
  return "stop";
}

int rgb_value(const char* hex) { return static_cast<int>(std::strtol(hex + 1, nullptr, 16)); }

// Ticks at round local times: the smallest step that gives at most 7 ticks over the span.
std::vector<std::pair<double, std::string>> time_ticks(double x0, double x1, double origin, long off) {
  static const double steps[] = {1,    2,    5,    10,    15,    30,    60,    120,    300,    600,   900,
                                 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000};
  double step = steps[sizeof steps / sizeof steps[0] - 1];
  for (double s : steps)
    if ((x1 - x0) / s <= 7) {
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

std::string timeline_script(const std::vector<PlotStage>& stages, double now, long off,
                            std::vector<std::pair<std::string, std::string>>& files) {
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
  o += "  set key outside below horizontal\n";
  if (running) o += "  set arrow 1 from " + num(now - t0) + ", graph 0 to " + num(now - t0) +
                    ", graph 1 nohead dt 3 lc rgb \"#444444\"\n";

  // Labels above their bars, only where they fit (about 6.5 px per character over ~800 px of plot width).
  std::string data = "# start end (seconds since " + num(t0) + ") row rgb outcome label\n";
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (const Bar& b : rows[i]) {
      const double bar_px = (b.end - b.start) / (x1 - x0) * 800;
      std::string label = b.label;
      if (label.size() * 6.5 > bar_px) label = label.substr(0, label.find(' ', 4));  // "job 7" without the restart
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

}  // namespace

MetricsTable parse_metrics_tsv(const std::string& text) {
  MetricsTable m;
  for (const auto& line : parse::split(text, '\n')) {
    const auto fields = parse::split(line, '\t');
    std::int64_t step = 0;
    if (fields.size() < 2 || !parse::parse_value(fields[0], step).empty()) continue;
    std::vector<double> row(m.terms.size(), kNaN);
    bool ok = true;
    for (std::size_t f = 1; f < fields.size() && ok; ++f) {
      const auto eq = fields[f].find('=');
      double v = 0;
      ok = eq != std::string::npos && eq > 0 && parse::parse_value(fields[f].substr(eq + 1), v).empty();
      if (!ok) break;
      const std::string name = fields[f].substr(0, eq);
      if (name.rfind("lr/", 0) == 0) continue;
      auto it = std::find(m.terms.begin(), m.terms.end(), name);
      if (it == m.terms.end()) {
        m.terms.push_back(name);
        for (auto& r : m.values) r.push_back(kNaN);
        row.push_back(kNaN);
        it = m.terms.end() - 1;
      }
      row[static_cast<std::size_t>(it - m.terms.begin())] = v;
    }
    if (ok) append_row(m.steps, m.values, step, std::move(row));
  }
  return m;
}

std::string chunk_outcome(const RunState& s, std::size_t i) {
  const auto& c = s.chunks.at(i);
  if (c.end == 0) return i + 1 == s.chunks.size() && !s.stopped && !s.complete ? "running" : "lost";
  if (c.action == "continue" || c.action == "done" || c.action == "stop") return c.action;
  if (c.action == "lost" || c.action == "requeued") return "lost";
  return c.exit_code == 0 ? "done" : c.exit_code == 3 ? "continue" : "stop";
}

PlotSources plot_sources(const std::vector<PlotStage>& stages, double now, long utc_offset_s) {
  PlotSources p;
  p.loss_script = loss_script(stages, p.data_files);
  p.timeline_script = timeline_script(stages, now, utc_offset_s, p.data_files);
  return p;
}

}  // namespace sdn::slurm

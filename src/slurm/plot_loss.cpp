// The loss plot's gnuplot script (see plots.hpp): one panel per stage, every term of logs/metrics.tsv (or the
// journal's loss) on a log axis with labelled ticks, other terms on a linear right axis, job starts as lines.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "slurm/plot_gnuplot.hpp"

namespace sdn::slurm::gp {
namespace {

struct Curve {
  std::vector<std::string> terms;
  std::vector<std::int64_t> steps;
  std::vector<std::vector<double>> values;
  std::string source;  // for the panel title
};

// Accuracies, IoUs and rewards are reported as terms too, but they are no losses: they rise, may be negative, and
// go on a linear right axis.
bool is_loss_term(const std::string& name) {
  std::string l;
  for (char ch : name) l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* w : {"acc", "iou", "reward"})
    if (l.find(w) != std::string::npos) return false;
  return true;
}

// A value a curve can show: losses must be > 0 (logarithmic axis), other terms finite.
bool shown(double v, bool loss) { return std::isfinite(v) && (!loss || v > 0); }

// Means over equal runs of rows (of the values that can be shown); the step of a run is its last.
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
      const bool loss = is_loss_term(c.terms[t]);
      double sum = 0;
      int n = 0;
      for (std::size_t r = b; r < e; ++r)
        if (shown(c.values[r][t], loss)) sum += c.values[r][t], ++n;
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

std::string loss_panel(const PlotStage& st, std::size_t index, Files& files) {
  std::size_t run = 1;
  const Curve c = binned(curve_of(st), kMaxLossPoints, run);
  std::string o = "  # stage " + std::to_string(index) + ": " + st.name + "\n";
  o += "  unset arrow\n  unset label\n  unset logscale\n  unset y2tics\n  unset y2label\n";
  std::vector<bool> loss(c.terms.size());
  for (std::size_t t = 0; t < c.terms.size(); ++t) loss[t] = is_loss_term(c.terms[t]);
  const bool others = std::find(loss.begin(), loss.end(), false) != loss.end();
  double lo = 0, hi = 0;
  for (const auto& row : c.values)
    for (std::size_t t = 0; t < row.size(); ++t)
      if (loss[t] && shown(row[t], true)) lo = lo > 0 ? std::min(lo, row[t]) : row[t], hi = std::max(hi, row[t]);
  if (hi <= 0 && others && !c.steps.empty()) lo = 0.1, hi = 10;  // only other terms so far: an empty loss axis
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
    for (std::size_t t = 0; t < c.terms.size(); ++t)
      data += " " + (shown(c.values[r][t], loss[t]) ? num(c.values[r][t]) : std::string("NaN"));
    data += "\n";
  }
  files.emplace_back(file, data);

  double x0 = static_cast<double>(c.steps.front()), x1 = static_cast<double>(c.steps.back());
  for (const auto& ch : st.state.chunks) x0 = std::min(x0, static_cast<double>(ch.step_start));
  if (x1 <= x0) x1 = x0 + 1;
  o += "  set title " + gp_string(st.name + ": " + c.source +
                               (run > 1 ? ", mean of each " + std::to_string(run) + " steps" : "")) + "\n";
  o += log_axis('y', lo, hi);
  o += others ? "  set ytics nomirror\n  set y2tics\n  set y2range [*:*]\n  set y2label \"other terms (linear)\"\n"
              : "  set ytics mirror\n";
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
         (loss[t] ? " with lines" : " axes x1y2 with lines") + " lt " + std::to_string(t % 10 + 1) +
         (loss[t] ? "" : " dt 4") + " title " + gp_string(c.terms[t] + (loss[t] ? "" : " (right)"));
  return o + "\n";
}

}  // namespace

std::string loss_script(const std::vector<PlotStage>& stages, Files& files) {
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
  bool right_axis = false;
  for (const auto& st : stages)
    for (const auto& t : st.metrics.steps.empty() ? std::vector<std::string>{"loss"} : st.metrics.terms) {
      widest = std::max(widest, t.size() + (is_loss_term(t) ? 0 : 8));
      right_axis = right_axis || !is_loss_term(t);
    }
  o += "  set lmargin 10\n  set rmargin " + std::to_string(widest + 7 + (right_axis ? 9 : 0)) + "\n";
  o += "  set key outside right top vertical Left reverse\n";
  if (stages.empty()) {
    o += "  set title \"no stages\"\n" + log_axis('y', 0.1, 10) + "  set xrange [0:1]\n  plot NaN notitle\n";
  }
  for (std::size_t i = 0; i < stages.size(); ++i) o += loss_panel(stages[i], i + 1, files);
  return o + "  unset multiplot\n" + kTerminalsEnd;
}

}  // namespace sdn::slurm::gp

// Implements the plots' pure entry points (see plots.hpp); the scripts are built in plot_loss.cpp and
// plot_timeline.cpp.
#include "slurm/plots.hpp"

#include <algorithm>

#include "core/parse.hpp"
#include "slurm/plot_gnuplot.hpp"

namespace sdn::slurm {

MetricsTable parse_metrics_tsv(const std::string& text) {
  MetricsTable m;
  for (const auto& line : parse::split(text, '\n')) {
    const auto fields = parse::split(line, '\t');
    std::int64_t step = 0;
    if (fields.size() < 2 || !parse::parse_value(fields[0], step).empty()) continue;
    std::vector<double> row(m.terms.size(), gp::kNaN);
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
        for (auto& r : m.values) r.push_back(gp::kNaN);
        row.push_back(gp::kNaN);
        it = m.terms.end() - 1;
      }
      row[static_cast<std::size_t>(it - m.terms.begin())] = v;
    }
    if (ok) gp::append_row(m.steps, m.values, step, std::move(row));
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
  p.loss_script = gp::loss_script(stages, p.data_files);
  p.timeline_script = gp::timeline_script(stages, now, utc_offset_s, p.data_files);
  return p;
}

}  // namespace sdn::slurm

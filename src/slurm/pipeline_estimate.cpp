// Implements the running-time table (see pipeline_estimate.hpp).
#include "slurm/pipeline_estimate.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "slurm/plan.hpp"

namespace sdn::slurm {
namespace {

std::string su_text(double su) {
  char buf[32];
  std::snprintf(buf, sizeof buf, su >= 100 ? "%.0f" : "%.1f", su);
  return buf;
}

// Longest path through the graph, each node taking its wall time after all it waits for.
std::int64_t critical_path_s(const std::vector<GraphNode>& graph, const std::vector<EstimateRow>& rows) {
  std::map<std::string, std::int64_t> finish;
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < graph.size() && i < rows.size(); ++i) {
    std::int64_t start = 0;
    for (const auto& d : graph[i].deps) start = std::max(start, finish[d]);
    finish[graph[i].id] = start + rows[i].wall_s;
    longest = std::max(longest, finish[graph[i].id]);
  }
  return longest;
}

}  // namespace

std::string render_estimate(const std::string& title, const std::vector<GraphNode>& graph,
                            const std::vector<EstimateRow>& rows, bool markdown) {
  struct Line {
    std::string node, source, steps, shape, wall, jobs, su;
  };
  std::vector<Line> lines;
  std::vector<std::string> branches;
  std::map<std::string, EstimateRow> sub;
  EstimateRow total;
  for (const auto& r : rows) {
    lines.push_back({r.node, r.source, r.steps > 0 ? std::to_string(r.steps) : "-", r.shape, format_span(r.wall_s),
                     std::to_string(r.jobs), su_text(r.service_units)});
    if (!sub.count(r.branch)) branches.push_back(r.branch);
    auto& s = sub[r.branch];
    s.wall_s += r.wall_s;
    s.jobs += r.jobs;
    s.service_units += r.service_units;
    total.wall_s += r.wall_s;
    total.jobs += r.jobs;
    total.service_units += r.service_units;
  }
  for (const auto& b : branches) {
    const auto& s = sub[b];
    lines.push_back({"subtotal " + b, "sum of its nodes", "", "", format_span(s.wall_s), std::to_string(s.jobs),
                     su_text(s.service_units)});
  }
  lines.push_back({"total", "one node after another", "", "", format_span(total.wall_s), std::to_string(total.jobs),
                   su_text(total.service_units)});
  lines.push_back({"total along the graph", "independent stages side by side", "", "",
                   format_span(critical_path_s(graph, rows)), "", ""});
  const std::vector<std::string> head = {"node", "throughput source", "steps", "job shape", "wall time", "jobs", "SUs"};
  std::string o = markdown ? "**" + title + "**\n\n" : title + "\n";
  if (markdown) {
    auto row = [&](const std::vector<std::string>& c) {
      std::string r = "|";
      for (const auto& x : c) r += " " + x + " |";
      o += r + "\n";
    };
    row(head);
    o += "|---|---|---:|---|---:|---:|---:|\n";
    for (const auto& l : lines) {
      const bool bold = l.node.rfind("subtotal", 0) == 0 || l.node.rfind("total", 0) == 0;
      auto b = [&](const std::string& x) { return bold && !x.empty() ? "**" + x + "**" : x; };
      row({b(l.node), l.source, l.steps, l.shape, b(l.wall), l.jobs, b(l.su)});
    }
    return o;
  }
  std::vector<std::size_t> width(head.size());
  auto fit = [&](const std::vector<std::string>& c) {
    for (std::size_t i = 0; i < c.size(); ++i) width[i] = std::max(width[i], c[i].size());
  };
  fit(head);
  for (const auto& l : lines) fit({l.node, l.source, l.steps, l.shape, l.wall, l.jobs, l.su});
  auto row = [&](const std::vector<std::string>& c) {
    std::string r = " ";
    for (std::size_t i = 0; i < c.size(); ++i) {
      const bool right = i >= 4 || i == 2;
      const std::string pad(width[i] - c[i].size(), ' ');
      r += " " + (right ? pad + c[i] : c[i] + pad);
    }
    while (!r.empty() && r.back() == ' ') r.pop_back();
    o += r + "\n";
  };
  row(head);
  for (const auto& l : lines) row({l.node, l.source, l.steps, l.shape, l.wall, l.jobs, l.su});
  return o;
}

}  // namespace sdn::slurm

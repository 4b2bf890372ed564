// The pipeline's running-time table (`sdn pipeline estimate`, and the summary of `sdn pipeline plan`): per node the
// source of its throughput, steps, job shape, wall time, jobs and service units; subtotals per branch; the total
// as a sum and along the graph (branches run side by side). Pure: rows in, text or Markdown out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "slurm/pipeline_spec.hpp"

namespace sdn::slurm {

struct EstimateRow {
  std::string node;         // "semantic", "semantic.predict"
  std::string branch;       // semantic | geometric | textural
  std::string source;       // where the duration comes from
  std::int64_t steps = 0;   // 0: a prediction job
  std::string shape;        // "gpu x 4, 48:00:00 jobs"
  std::int64_t wall_s = 0;  // first job start to the end, queue waits and restarts included
  int jobs = 0;
  double service_units = 0;
};

// `graph` gives the critical path (rows in graph order, one per node).
std::string render_estimate(const std::string& title, const std::vector<GraphNode>& graph,
                            const std::vector<EstimateRow>& rows, bool markdown);

}  // namespace sdn::slurm

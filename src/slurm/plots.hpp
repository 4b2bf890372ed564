// The `--plot` images as gnuplot sources: a pure function from the stages' journal summaries (and their
// logs/metrics.tsv) to gnuplot scripts and data-file texts, golden-tested. Owns every layout decision (log ticks,
// chunk boundaries, bar colours by outcome, local-time ticks), so that gnuplot only draws. plot_writer.hpp runs it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "slurm/run_state.hpp"

namespace sdn::slurm {

// RUN/logs/metrics.tsv: "step<TAB>name=value..." per optimiser step. Learning rates ("lr/...") are left out.
struct MetricsTable {
  std::vector<std::string> terms;             // in order of first appearance
  std::vector<std::int64_t> steps;            // increasing
  std::vector<std::vector<double>> values;    // [row][term]; NaN where a row lacks the term
};

// Tolerant of torn and malformed lines (skipped). A step that goes back (a resumed run rewrote what the
// interrupted one logged past its checkpoint) drops the rows from that step on.
MetricsTable parse_metrics_tsv(const std::string& text);

struct PlotStage {
  std::string name;
  RunState state;
  MetricsTable metrics;   // empty: the loss comes from the journal's progress events
};

struct PlotSources {
  std::string loss_script;        // writes loss.svg and loss.png in the current directory
  std::string timeline_script;    // writes timeline.svg and timeline.png
  std::vector<std::pair<std::string, std::string>> data_files;   // name (relative), text
};

// Chunk outcome as the timeline colours it: continue | done | stop | lost | running. A chunk without a recorded
// end is "running" when it is the stage's last and the stage has not ended, else "lost".
std::string chunk_outcome(const RunState& state, std::size_t chunk);

// Most points per loss curve; longer metrics are averaged over equal runs of steps (the panel says so).
inline constexpr std::size_t kMaxLossPoints = 1500;

// `now` ends running bars; `utc_offset_s` turns the journal's epoch seconds into the viewer's local clock for
// the time labels (a parameter, so the output is the same on every machine for the same inputs).
PlotSources plot_sources(const std::vector<PlotStage>& stages, double now, long utc_offset_s);

}  // namespace sdn::slurm

// `--plot` for `sdn status` and `sdn pipeline status`: reads each stage's logs/metrics.tsv, writes the gnuplot
// scripts and data of plots.hpp into a directory and runs gnuplot there, which draws loss.{svg,png} and
// timeline.{svg,png}. The only impure part of the plots; the scripts stay next to the images for rerunning.
#pragma once

#include <string>
#include <vector>

#include "slurm/run_state.hpp"

namespace sdn::slurm {

struct StagePlot {
  std::string name;          // panel title and timeline row
  RunState state;            // from the stage's journal
  std::string metrics_tsv;   // path of RUN/logs/metrics.tsv; may be empty or missing (then the journal's loss)
};

struct PlotFiles {
  std::string loss_svg, loss_png, timeline_svg, timeline_png;
};

// Writes out_dir/{loss,timeline}.{gp,svg,png} and their data files (out_dir is created). `now` (seconds since the
// epoch) ends the bars of running jobs; time labels use this machine's local time zone. Throws sdn::Error when
// gnuplot is missing (naming the package to install) or fails (with its message).
PlotFiles write_plots(const std::vector<StagePlot>& stages, const std::string& out_dir, double now);

}  // namespace sdn::slurm

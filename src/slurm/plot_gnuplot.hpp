// The gnuplot text the plot scripts share (plots.cpp, plot_loss.cpp, plot_timeline.cpp): number and string
// formatting, the loop that writes one plot as SVG and PNG, chunk labels, and the two script builders.
// Internal to the plots; plots.hpp is the interface.
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "slurm/plots.hpp"

namespace sdn::slurm::gp {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr int kWidth = 960;
// tab10: distinguishable, and the timeline's outcome colours come from the same family.
inline const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

using Files = std::vector<std::pair<std::string, std::string>>;

inline std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

inline std::string short_num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A gnuplot double-quoted string ("\n" stays a line break).
inline std::string gp_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

inline std::string gp_lines(const std::string& s) {
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
inline std::string terminals_begin(const std::string& base, int height) {
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

inline const std::string kTerminalsEnd = "  unset output\n}\n";

// Keeps the rows a resumed run kept: a step not above the previous one replaces everything from that step on.
inline void append_row(std::vector<std::int64_t>& steps, std::vector<std::vector<double>>& values, std::int64_t step,
                std::vector<double> row) {
  while (!steps.empty() && steps.back() >= step) steps.pop_back(), values.pop_back();
  steps.push_back(step);
  values.push_back(std::move(row));
}

inline std::string chunk_label(const ChunkRecord& c) {
  return "job " + (c.job_id.empty() ? std::string("?") : c.job_id) +
         (c.restart > 0 ? " (restart " + std::to_string(c.restart) + ")" : "");
}

// loss.gp (data files loss-N.dat) and timeline.gp (timeline.dat); see plots.hpp for the inputs.
std::string loss_script(const std::vector<PlotStage>& stages, Files& files);
std::string timeline_script(const std::vector<PlotStage>& stages, double now, long utc_offset_s, Files& files);

}  // namespace sdn::slurm::gp

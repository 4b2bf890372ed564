// Implements the gnuplot runner of the plots (see plot_writer.hpp).
#include "slurm/plot_writer.hpp"

#include <ctime>
#include <filesystem>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"
#include "slurm/plots.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {
namespace {

const char* kGnuplotHint = "install gnuplot with svg and png terminals (Debian/Ubuntu: apt-get install gnuplot-nox, "
                           "as scripts/install-deps does; on a cluster: its gnuplot module, if it has one)";

// A gnuplot single-quoted string: taken literally, '' stands for '.
std::string gnuplot_literal(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, c);
  return o + "'";
}

void run_gnuplot(const std::string& dir, const std::string& script) {
  CommandResult r;
  try {
    r = run_command({"gnuplot", "-e", "cd " + gnuplot_literal(dir), dir + "/" + script});
  } catch (const Error& e) {
    throw Error("cannot draw the plots: " + e.message(), kGnuplotHint);
  }
  if (r.exit_code != 0)
    throw Error("gnuplot failed on " + dir + "/" + script + " (exit " + std::to_string(r.exit_code) +
                    "): " + parse::trim(r.err),
                "the script and its data files are in " + dir + "; rerun there with `gnuplot " + script + "`");
}

long local_utc_offset(double now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

}  // namespace

PlotFiles write_plots(const std::vector<StagePlot>& stages, const std::string& out_dir, double now) {
  std::vector<PlotStage> in;
  for (const auto& s : stages) {
    PlotStage p{s.name, s.state, {}};
    if (!s.metrics_tsv.empty() && std::filesystem::exists(s.metrics_tsv))
      p.metrics = parse_metrics_tsv(fs::read_file(s.metrics_tsv));
    in.push_back(std::move(p));
  }
  const PlotSources src = plot_sources(in, now, local_utc_offset(now));
  fs::ensure_writable_dir(out_dir);
  for (const auto& [name, text] : src.data_files) fs::write_atomic(out_dir + "/" + name, text);
  fs::write_atomic(out_dir + "/loss.gp", src.loss_script);
  fs::write_atomic(out_dir + "/timeline.gp", src.timeline_script);
  PlotFiles f{out_dir + "/loss.svg", out_dir + "/loss.png", out_dir + "/timeline.svg", out_dir + "/timeline.png"};
  for (const auto* p : {&f.loss_svg, &f.loss_png, &f.timeline_svg, &f.timeline_png}) std::filesystem::remove(*p);
  run_gnuplot(out_dir, "loss.gp");
  run_gnuplot(out_dir, "timeline.gp");
  for (const auto* p : {&f.loss_svg, &f.loss_png, &f.timeline_svg, &f.timeline_png})
    if (!std::filesystem::exists(*p))
      throw Error("gnuplot wrote no " + *p, "check that this gnuplot has the svg and png (or pngcairo) terminals: "
                                            "`gnuplot -e 'set terminal'`; " + std::string(kGnuplotHint));
  return f;
}

}  // namespace sdn::slurm

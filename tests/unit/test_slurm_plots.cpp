// The `--plot` images: metrics.tsv parsing, chunk outcomes, the generated gnuplot scripts and data against
// golden files (tests/golden/plots-*), the log-axis ticks, and one real gnuplot run that must write an SVG with
// a labelled line per job start and a bar label per job, and PNGs of the stated size.
// Regenerate the goldens after an intended change: SDN_UPDATE_GOLDEN=1 ctest --test-dir build -R test_slurm
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "golden_util.hpp"
#include "slurm/plot_writer.hpp"
#include "slurm/plots.hpp"

using namespace sdn::slurm;
namespace journal = sdn::journal;

namespace {

// 2025-12-01 12:00:00 UTC: every time below is an offset from it.
constexpr double kT = 1764590400;

journal::Event ev(const std::string& kind, double t, journal::Event fields = journal::Event::object()) {
  fields["event"] = kind;
  fields["time"] = kT + t;
  return fields;
}

journal::Event progress(double t, int step, double loss) {
  return ev("progress", t, {{"step", step}, {"total_steps", 60}, {"loss", loss}, {"images_per_s", 4.0}});
}

// Semantic: job 101 runs twice (requeued: restart 1), job 102 is killed without an end, job 103 is running.
RunState semantic_state() {
  std::vector<journal::Event> e = {
      ev("submit", 0, {{"mode", "requeue"}, {"job_ids", {"101"}}}),
      ev("chunk_start", 60, {{"job_id", "101"}, {"step", 0}}),
      progress(300, 10, 2.0),
      ev("chunk_end", 600, {{"exit_code", 3}, {"step", 20}, {"action", "continue"}}),
      ev("chunk_start", 900, {{"job_id", "101"}, {"restart", 1}, {"step", 20}}),
      progress(1200, 30, 0.9),
      ev("chunk_end", 1500, {{"exit_code", 3}, {"step", 40}, {"action", "continue"}}),
      ev("chunk_start", 1600, {{"job_id", "102"}, {"step", 40}}),
      progress(1800, 45, 0.5),
      ev("chunk_end", 2400, {{"exit_code", -1}, {"step", 40}, {"action", "lost"}}),
      ev("chunk_start", 2400, {{"job_id", "103"}, {"step", 40}}),
      progress(2700, 50, 0.4)};
  return summarize(e);
}

// Textural: one job continues, the next one fails (stop); its loss comes from the journal only.
RunState textural_state() {
  std::vector<journal::Event> e = {
      ev("submit", 0, {{"mode", "chain"}, {"job_ids", {"201", "202"}}}),
      ev("chunk_start", 100, {{"job_id", "201"}, {"step", 0}}),
      progress(400, 100, 12.5),
      progress(700, 200, 3.1),
      ev("chunk_end", 800, {{"exit_code", 3}, {"step", 200}, {"action", "continue"}}),
      ev("chunk_start", 1000, {{"job_id", "202"}, {"step", 200}}),
      progress(1300, 300, 1.7),
      ev("chunk_end", 1400, {{"exit_code", 1}, {"step", 200}, {"action", "stop"}, {"reason", "failure"}}),
      ev("run_end", 1400, {{"reason", "failure"}})};
  return summarize(e);
}

// Mask R-CNN: one job that finished, no loss recorded.
RunState maskrcnn_state() {
  std::vector<journal::Event> e = {ev("submit", 0, {{"mode", "requeue"}, {"job_ids", {"301"}}}),
                                   ev("chunk_start", 200, {{"job_id", "301"}, {"step", 0}}),
                                   ev("chunk_end", 500, {{"exit_code", 0}, {"step", 10}, {"action", "done"}}),
                                   ev("run_end", 500, {{"reason", "complete"}})};
  return summarize(e);
}

// 60 steps of two loss terms, an accuracy and a learning rate; the interrupted chunk logged steps 41-44 past its
// checkpoint at 40, which the resumed run rewrote.
std::string semantic_metrics() {
  std::string t;
  auto line = [&](int s) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d\tce=%.6g\taux=%.6g\tpixel_acc=%.6g\tlr/main=0.01\n", s,
                  2.5 * std::exp(-s / 20.0) + 0.05, 0.8 * std::exp(-s / 40.0), 0.9 - 0.8 * std::exp(-s / 10.0));
    t += buf;
  };
  for (int s = 1; s <= 44; ++s) line(s);
  for (int s = 41; s <= 60; ++s) line(s);
  return t;
}

std::vector<PlotStage> three_stages() {
  return {{"semantic", semantic_state(), parse_metrics_tsv(semantic_metrics())},
          {"textural", textural_state(), {}},
          {"maskrcnn", maskrcnn_state(), {}}};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

std::string data_of(const PlotSources& p, const std::string& name) {
  for (const auto& [n, text] : p.data_files)
    if (n == name) return text;
  return {};
}

}  // namespace

TEST(SlurmPlots, MetricsTsvKeepsWhatAResumedRunKept) {
  auto m = parse_metrics_tsv("1\tce=2.5\tlr/main=0.1\n2\tce=2\taux=1\n3\tce=1.5\taux=0.8\n2\tce=1.9\taux=0.9\n"
                             "not a step\tce=1\n3\tce=\n4\tce=1");  // rewind to 2; a malformed and a torn line
  EXPECT_EQ(m.terms, (std::vector<std::string>{"ce", "aux"}));
  EXPECT_EQ(m.steps, (std::vector<std::int64_t>{1, 2, 4}));
  ASSERT_EQ(m.values.size(), 3u);
  EXPECT_DOUBLE_EQ(m.values[0][0], 2.5);
  EXPECT_TRUE(std::isnan(m.values[0][1]));  // aux appeared later
  EXPECT_DOUBLE_EQ(m.values[1][1], 0.9);    // the rewritten step 2 wins
  EXPECT_TRUE(std::isnan(m.values[2][1]));
}

TEST(SlurmPlots, ChunkOutcomesColourTheTimeline) {
  const RunState s = semantic_state();
  ASSERT_EQ(s.chunks.size(), 4u);
  EXPECT_EQ(chunk_outcome(s, 0), "continue");
  EXPECT_EQ(chunk_outcome(s, 2), "lost");
  EXPECT_EQ(chunk_outcome(s, 3), "running");
  const RunState t = textural_state();
  EXPECT_EQ(chunk_outcome(t, 1), "stop");
  EXPECT_EQ(chunk_outcome(maskrcnn_state(), 0), "done");
  RunState killed = t;  // an open chunk of a run that has ended was lost, not running
  killed.chunks.back().end = 0;
  EXPECT_EQ(chunk_outcome(killed, 1), "lost");
}

TEST(SlurmPlots, ScriptsAndDataMatchTheGoldens) {
  const PlotSources p = plot_sources(three_stages(), kT + 3000, /*utc_offset_s=*/3600);
  sdn_test::expect_golden("plots-loss.gp", p.loss_script);
  sdn_test::expect_golden("plots-timeline.gp", p.timeline_script);
  std::string data;
  for (const auto& [name, text] : p.data_files) data += "==> " + name + " <==\n" + text;
  sdn_test::expect_golden("plots-data.txt", data);
}

TEST(SlurmPlots, LossPanelsHaveLogTicksAndJobStarts) {
  const PlotSources p = plot_sources(three_stages(), kT + 3000, 3600);
  // One panel per stage; the empty one says so instead of drawing nothing.
  EXPECT_NE(p.loss_script.find("set multiplot layout 3,1"), std::string::npos);
  EXPECT_NE(p.loss_script.find("maskrcnn: no loss recorded yet"), std::string::npos);
  // Textural's journal loss 1.7 .. 12.5 spans [1.5:15], one decade on ~200 px: 1..9 would put 9 and 10 within
  // 10 px, so 2-3-5-7-10 are labelled and the other mantissas are minor ticks.
  EXPECT_NE(p.loss_script.find("set yrange [1.5:15]\n  set ytics (\"2\" 2, \"3\" 3, \"5\" 5, \"7\" 7, \"10\" 10)\n"
                               "  set ytics add (\"\" 4 1, \"\" 6 1, \"\" 8 1, \"\" 9 1)"),
            std::string::npos) << p.loss_script;
  // Four semantic job starts (0, 20, 40, 40): four lines; the second label at step 40 would overlap the first.
  EXPECT_EQ(count(p.loss_script, "nohead dt 2"), 6u);  // 4 semantic + 2 textural
  EXPECT_NE(p.loss_script.find("\"job 101 (restart 1)\" at 20,"), std::string::npos);
  EXPECT_EQ(count(p.loss_script, "\"job 103\""), 0u);
  // Steps 41-44 of the lost chunk are the resumed run's: 60 rows, ce, aux and pixel_acc, no learning rate.
  const std::string d = data_of(p, "loss-1.dat");
  EXPECT_EQ(count(d, "\n"), 62u);
  EXPECT_NE(d.find("# step ce aux pixel_acc\n"), std::string::npos);
  // The accuracy is no loss: a linear right axis, only in the semantic panel.
  EXPECT_NE(p.loss_script.find("\"\" using 1:4 axes x1y2 with lines lt 3 dt 4 title \"pixel_acc (right)\""),
            std::string::npos);
  EXPECT_EQ(count(p.loss_script, "  set y2tics\n"), 1u);
}

TEST(SlurmPlots, LongMetricsAreAveragedAndSaySo) {
  std::string t;
  for (int s = 1; s <= 4000; ++s) t += std::to_string(s) + "\tce=" + std::to_string(1.0 + (s % 2)) + "\n";
  const PlotSources p = plot_sources({{"semantic", {}, parse_metrics_tsv(t)}}, kT, 0);
  const std::string d = data_of(p, "loss-1.dat");
  EXPECT_EQ(count(d, "\n"), 2u + 1334u);  // runs of 3 steps
  EXPECT_NE(d.find("\n3 1.666666667\n"), std::string::npos) << d.substr(0, 200);
  EXPECT_NE(p.loss_script.find("mean of each 3 steps"), std::string::npos);
}

TEST(SlurmPlots, TimelineTicksAreLocalClockTimes) {
  const PlotSources p = plot_sources(three_stages(), kT + 3000, 3600);
  // First start 12:01 UTC = 13:01 local, x = 0; 49 minutes plus 3% margins from x = -88: a tick every 10 minutes
  // from 13:00 local (x = -60), the date under the first.
  EXPECT_NE(p.timeline_script.find("set xtics nomirror (\"13:00\\n12-01\" -60, \"13:10\" 540,"), std::string::npos)
      << p.timeline_script;
  EXPECT_NE(p.timeline_script.find("first job started 2025-12-01 13:01:00"), std::string::npos);
  const std::string d = data_of(p, "timeline.dat");
  EXPECT_EQ(count(d, "\n"), 1u + 4u + 2u + 1u);  // a header, then one bar per chunk
  EXPECT_NE(d.find(" 1740 2 16744206 lost "), std::string::npos) << d;  // ends at its last progress report
}

TEST(SlurmPlots, GnuplotDrawsSvgAndPng) {
  if (std::system("gnuplot --version > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "gnuplot is not installed (Debian: apt-get install gnuplot-nox, as scripts/install-deps does)";
  const std::string dir = ::testing::TempDir() + "sdn-plots-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  const std::string tsv = ::testing::TempDir() + "sdn-plots-metrics.tsv";
  std::ofstream(tsv) << semantic_metrics();
  const PlotFiles f = write_plots({{"semantic", semantic_state(), tsv}, {"textural", textural_state(), ""},
                                   {"maskrcnn", maskrcnn_state(), tsv + ".missing"}},
                                  dir, kT + 3000);
  const std::string loss = sdn_test::slurp(f.loss_svg), timeline = sdn_test::slurp(f.timeline_svg);
  for (const std::string* svg : {&loss, &timeline}) {
    EXPECT_NE(svg->find("<svg"), std::string::npos);
    EXPECT_EQ(svg->find("</svg>"), svg->rfind("</svg>"));
    EXPECT_NE(svg->find("</svg>"), std::string::npos);
    EXPECT_EQ(count(*svg, "<text"), count(*svg, "</text>"));
  }
  // Labelled job-start lines: semantic 101, 101 (restart 1), 102 (103 overlaps 102); textural 201, 202.
  EXPECT_EQ(count(loss, ">job "), 5u) << f.loss_svg;
  // Bar labels: all 7 jobs fit their bars.
  EXPECT_EQ(count(timeline, ">job "), 7u) << f.timeline_svg;
  for (const auto& [png, height] : {std::pair{f.loss_png, 80 + 300 * 3}, std::pair{f.timeline_png, 150 + 70 * 3}}) {
    const std::string b = sdn_test::slurp(png);
    ASSERT_GT(b.size(), 24u + 2000u) << png;
    EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(b.substr(12, 4), "IHDR");
    auto be32 = [&](std::size_t at) {
      return (static_cast<unsigned char>(b[at]) << 24) | (static_cast<unsigned char>(b[at + 1]) << 16) |
             (static_cast<unsigned char>(b[at + 2]) << 8) | static_cast<unsigned char>(b[at + 3]);
    };
    EXPECT_EQ(be32(16), 960u);
    EXPECT_EQ(be32(20), static_cast<unsigned>(height));
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

TEST(SlurmPlots, WithoutGnuplotOneErrorNamesThePackage) {
  const char* path = std::getenv("PATH");
  const std::string saved = path ? path : "";
  ::setenv("PATH", "/nonexistent", 1);
  try {
    write_plots({{"semantic", semantic_state(), ""}}, ::testing::TempDir() + "sdn-plots-nognuplot", kT);
    ADD_FAILURE() << "no error without gnuplot";
  } catch (const sdn::Error& e) {
    EXPECT_NE(e.message().find("gnuplot"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("gnuplot-nox"), std::string::npos) << e.hint();
  }
  ::setenv("PATH", saved.c_str(), 1);
}

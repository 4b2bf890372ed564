// The pipeline's pure parts: the config and its job graph, node states, the gate (graph order, failure
// propagation), the ETA along the graph, the running-time table, and the prediction job script (golden).
// Regenerate the golden after an intended change: SDN_UPDATE_GOLDEN=1 ctest --test-dir build -R test_slurm
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "golden_util.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/job_script.hpp"
#include "slurm/pipeline_estimate.hpp"
#include "slurm/pipeline_spec.hpp"
#include "slurm/pipeline_status.hpp"
#include "slurm/run_setup.hpp"

using namespace sdn::slurm;
using sdn_test::expect_golden;
using sdn_test::golden_source_dir;

namespace {

// A directory with three stage configs and a pipeline file over them.
struct Fixture {
  std::string dir;
  explicit Fixture(const std::string& name) {
    dir = ::testing::TempDir() + "pipeline-" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const char* s : {"sem", "det", "tex"}) {
      std::ofstream(dir + "/" + s + ".ini") << "stage = " << (std::string(s) == "sem" ? "semantic"
                                                                : std::string(s) == "det" ? "maskrcnn"
                                                                                          : "textural")
                                            << "\n[train]\nepochs = 2\niterations_per_epoch = 10\nglobal_batch = 2\n"
                                               "per_rank_batch = 1\n";
    }
  }
  PipelineSpec parse(const std::string& text) const { return parse_pipeline(IniDoc::parse(text, "p.ini"), dir); }
};

const char* kGood =
    "[pipeline]\nname = t\ncluster = local\nshards = /data/shards\n"
    "[stage.tex]\nconfig = tex.ini\nimages_per_s = 1\ninput.textural.semantic_dir = sem:predict\n"
    "input.textural.geometric_dir = det:predict\nset.textural.inputs = predicted\npredict = test\n"
    "[stage.sem]\nconfig = sem.ini\nimages_per_s = 2\npredict = train,test\npredict_estimate = 10m\n"
    "[stage.det]\nconfig = det.ini\nthroughput = j.jsonl\npredict = test\nafter = sem\n";

std::string error_of(const Fixture& f, const std::string& text) {
  try {
    f.parse(text);
  } catch (const sdn::UsageError& e) {
    return e.message();
  }
  return "";
}

NodeStatus st(const std::string& id, const std::string& phase, std::vector<std::string> jobs = {}, double left = 0) {
  NodeStatus n;
  n.id = id;
  n.phase = phase;
  n.live_jobs = std::move(jobs);
  n.remaining_s = left;
  return n;
}

}  // namespace

TEST(PipelineSpec, OrdersStagesAfterTheirInputsAndBuildsTheGraph) {
  Fixture f("order");
  const PipelineSpec p = f.parse(kGood);
  ASSERT_EQ(p.stages.size(), 3u);
  EXPECT_EQ(p.stages[0].name, "sem");
  EXPECT_EQ(p.stages[1].name, "det");  // after = sem
  EXPECT_EQ(p.stages[2].name, "tex");  // reads both
  EXPECT_EQ(p.stages[0].branch, "semantic");
  EXPECT_EQ(p.stages[1].branch, "geometric");
  EXPECT_EQ(p.stages[2].branch, "textural");
  EXPECT_EQ(p.stages[1].throughput, f.dir + "/j.jsonl");
  EXPECT_EQ(p.stages[0].predict_estimate_s, 600);
  const auto g = pipeline_graph(p);
  std::vector<std::string> ids;
  for (const auto& n : g) ids.push_back(n.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"sem", "sem.predict", "det", "det.predict", "tex", "tex.predict"}));
  EXPECT_EQ(g[2].deps, (std::vector<std::string>{"sem"}));
  EXPECT_EQ(g[4].deps, (std::vector<std::string>{"det.predict", "sem.predict"}));  // by input key
  EXPECT_EQ(g[5].deps, (std::vector<std::string>{"tex"}));
}

TEST(PipelineSpec, WritesInputsShardsAndSetValuesIntoTheStageConfig) {
  Fixture f("inputs");
  const PipelineSpec p = f.parse(kGood);
  const std::string text = stage_config_text("stage = textural\n[train]\nepochs = 2\n", p, *p.find("tex"), "/P");
  const IniDoc d = IniDoc::parse(text, "x");
  EXPECT_EQ(d.raw("textural.semantic_dir"), "/P/sem/predict");
  EXPECT_EQ(d.raw("textural.geometric_dir"), "/P/det/predict");
  EXPECT_EQ(d.raw("textural.inputs"), "predicted");
  EXPECT_EQ(d.raw("data.shards"), "/data/shards");
  EXPECT_EQ(d.raw("train.epochs"), "2");
}

TEST(PipelineSpec, RenderedSpecReadsBackTheSame) {
  Fixture f("render");
  const PipelineSpec p = f.parse(kGood);
  const PipelineSpec q = parse_pipeline(IniDoc::parse(render_pipeline(p), "again.ini"), "/elsewhere");
  EXPECT_EQ(render_pipeline(q).substr(render_pipeline(q).find('\n')), render_pipeline(p).substr(render_pipeline(p).find('\n')));
  ASSERT_EQ(q.stages.size(), 3u);
  EXPECT_EQ(q.stages[2].inputs.size(), 2u);
  EXPECT_EQ(q.stages[0].predict_splits, (std::vector<std::string>{"train", "test"}));
}

TEST(PipelineSpec, ReportsEveryProblemWithItsLine) {
  Fixture f("bad");
  const std::string cycle = "[stage.a]\nconfig = sem.ini\nimages_per_s = 1\nafter = b\n"
                            "[stage.b]\nconfig = sem.ini\nimages_per_s = 1\nafter = a\n";
  EXPECT_NE(error_of(f, cycle).find("wait for each other"), std::string::npos) << error_of(f, cycle);
  const std::string bad = "[pipeline]\nmode = sometimes\n"
                          "[stage.a]\nconfig = missing.ini\nimages_per_s = 1\ninput.x.y = nowhere:predict\n"
                          "[stage.b]\nconfig = sem.ini\nthroughput = j\nimages_per_s = 3\ninput.z = a:predict\nbogus = 1\n";
  const std::string e = error_of(f, bad);
  EXPECT_NE(e.find("p.ini:2"), std::string::npos) << e;                            // mode
  EXPECT_NE(e.find("missing.ini does not exist"), std::string::npos) << e;
  EXPECT_NE(e.find("no [stage.nowhere]"), std::string::npos) << e;
  EXPECT_NE(e.find("exactly one throughput source"), std::string::npos) << e;
  EXPECT_NE(e.find("a makes no predictions"), std::string::npos) << e;
  EXPECT_NE(e.find("p.ini:12: unknown key 'bogus'"), std::string::npos) << e;
  EXPECT_NE(error_of(f, "[stage.a]\nconfig = sem.ini\nimages_per_s = 1\ninput.k = a:checkpoint\n").find("its own output"),
            std::string::npos);
  EXPECT_NE(error_of(f, "[stage.a]\nconfig = sem.ini\nimages_per_s = 1\ninput.k = b:weights\n"
                        "[stage.b]\nconfig = sem.ini\nimages_per_s = 1\n").find("STAGE:checkpoint or STAGE:predict"),
            std::string::npos);
}

TEST(PipelineGate, RunsWaitsOrStopsByItsDependencies) {
  EXPECT_EQ(decide_gate({}).action, "run");
  EXPECT_EQ(decide_gate({st("a", "complete"), st("b", "complete")}).action, "run");
  const auto w = decide_gate({st("a", "complete"), st("b", "running", {"7"}), st("c", "waiting", {"8", "9"})});
  EXPECT_EQ(w.action, "wait");
  EXPECT_EQ(w.wait_for, (std::vector<std::string>{"7", "8", "9"}));
  auto failed = st("b", "stopped");
  failed.detail = "failure: trainer exited with 1";
  const auto s = decide_gate({st("a", "running", {"7"}), failed});
  EXPECT_EQ(s.action, "stop");
  EXPECT_NE(s.message.find("b is stopped (failure: trainer exited with 1)"), std::string::npos) << s.message;
  EXPECT_TRUE(s.wait_for.empty());
  EXPECT_NE(decide_gate({st("a", "planned")}).message.find("never submitted"), std::string::npos);
  EXPECT_EQ(decide_gate({st("a", "cancelled")}).action, "stop");
  EXPECT_EQ(decide_gate({st("a", "lost")}).action, "stop");
}

TEST(PipelineState, PredictionNodeFollowsItsJournalAndQueue) {
  auto ev = [](const std::string& kind, double t, int exit_code = -1) {
    auto e = sdn::journal::make(kind);
    e["time"] = t;
    if (exit_code >= 0) e["exit_code"] = exit_code;
    return e;
  };
  using namespace sdn::journal::kind;
  NodeInputs in;
  in.node = {"s.predict", "s", true, {"s"}};
  in.estimate_s = 60;
  EXPECT_EQ(node_status(in, 100).phase, "planned");
  in.predict = summarize_predict({ev(kPredictSubmit, 10)});
  in.queue = {QueueEntry{"5", "n", "PENDING", "(Dependency)", "p", "", ""}};
  EXPECT_EQ(node_status(in, 100).phase, "waiting");
  EXPECT_EQ(node_status(in, 100).remaining_s, 60);
  in.queue.clear();
  in.predict = summarize_predict({ev(kPredictSubmit, 10), ev(kPredictStart, 20)});
  EXPECT_EQ(node_status(in, 100).phase, "lost");
  in.predict = summarize_predict({ev(kPredictSubmit, 10), ev(kPredictStart, 20), ev(kPredictEnd, 30, 2)});
  EXPECT_EQ(node_status(in, 100).phase, "failed");
  in.predict = summarize_predict({ev(kPredictSubmit, 10), ev(kPredictStart, 20), ev(kPredictEnd, 30, 2),
                                  ev(kPredictSubmit, 40), ev(kPredictStart, 50), ev(kPredictEnd, 60, 0)});
  const auto done = node_status(in, 100);
  EXPECT_EQ(done.phase, "complete");
  EXPECT_EQ(done.remaining_s, 0);
}

TEST(PipelineState, EtaFollowsTheGraphAndStopsAtAFailure) {
  // a -> b -> d, a -> c -> d: d starts after the slower branch.
  const std::vector<GraphNode> g = {{"a", "a", false, {}}, {"b", "b", false, {"a"}}, {"c", "c", false, {"a"}},
                                    {"d", "d", false, {"b", "c"}}};
  auto eta = pipeline_eta(g, {st("a", "running", {"1"}, 100), st("b", "waiting", {"2"}, 50),
                              st("c", "waiting", {"3"}, 300), st("d", "waiting", {"4"}, 10)}, 1000);
  EXPECT_EQ(eta.finish, (std::vector<double>{1100, 1150, 1400, 1410}));
  EXPECT_EQ(eta.pipeline_finish, 1410);
  eta = pipeline_eta(g, {st("a", "complete"), st("b", "stopped"), st("c", "running", {"3"}, 30),
                         st("d", "waiting", {"4"}, 10)}, 1000);
  EXPECT_EQ(eta.finish, (std::vector<double>{1000, 0, 1030, 0}));
  EXPECT_EQ(eta.pipeline_finish, 0);
  EXPECT_EQ(pipeline_phase({st("a", "complete"), st("b", "stopped"), st("c", "complete")}), "stopped");
  EXPECT_EQ(pipeline_phase({st("a", "complete"), st("b", "waiting", {"4"})}), "pending");
  EXPECT_EQ(pipeline_phase({st("a", "complete"), st("b", "complete")}), "complete");
}

TEST(PipelineEstimate, SubtotalsTotalsAndCriticalPath) {
  const std::vector<GraphNode> g = {{"sem", "sem", false, {}}, {"sem.predict", "sem", true, {"sem"}},
                                    {"det", "det", false, {}}, {"tex", "tex", false, {"sem.predict", "det"}}};
  std::vector<EstimateRow> rows = {{"sem", "semantic", "stated", 1000, "gpu x 4", 7200, 2, 10},
                                   {"sem.predict", "semantic", "stated", 0, "gpu x 1", 1800, 1, 1},
                                   {"det", "geometric", "journal", 500, "gpu x 4", 3600, 1, 5},
                                   {"tex", "textural", "stated", 100, "gpu x 2", 600, 1, 2.5}};
  const std::string t = render_estimate("T", g, rows, false);
  EXPECT_NE(t.find("subtotal semantic"), std::string::npos) << t;
  EXPECT_NE(t.find("02:30:00"), std::string::npos) << t;  // semantic: 2 h + 30 min
  EXPECT_NE(t.find("03:40:00"), std::string::npos) << t;  // sum of all
  EXPECT_NE(t.find("02:40:00"), std::string::npos) << t;  // along the graph: sem, its predictions, then tex
  EXPECT_NE(t.find("18.5"), std::string::npos) << t;
  const std::string md = render_estimate("T", g, rows, true);
  EXPECT_NE(md.find("| **total** |"), std::string::npos) << md;
  EXPECT_NE(md.find("|---|---|---:|"), std::string::npos);
}

TEST(PipelineScripts, PredictionJobAndGatedStageScript) {
  auto cl = parse_cluster_profile(IniDoc::load(golden_source_dir() + "/configs/clusters/local.ini"));
  Candidate c;
  c.shape = Shape{"gpu-shared", 1, 1, 1, 600};
  c.grace_s = 30;
  JobChoices ch;
  ch.run_dir = "/tmp/pipe/semantic";
  ch.job_name = "sdn-semantic-abcdef-predict";
  ch.sdn_command = "/opt/sdn/bin/sdn";
  ch.pipeline_dir = "/tmp/pipe";
  ch.pipeline_node = "semantic.predict";
  JobSpec j = make_job_spec(cl, c, ch);
  j.summary = "predictions of stage semantic for split(s) train,test";
  ASSERT_TRUE(validate_job_spec(j).empty());
  const std::string text = render_predict_sbatch(j, {"train", "test"}, "/tmp/pipe/semantic/predict");
  EXPECT_EQ(text.find("--signal"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --no-requeue\n"), std::string::npos);
  EXPECT_NE(text.find("pipeline gate /tmp/pipe --node semantic.predict"), std::string::npos);
  EXPECT_NE(text.find("for split in train test; do"), std::string::npos);
  EXPECT_LT(text.rfind("predict_start"), text.find("for split in"));
  EXPECT_LT(text.find("for split in"), text.rfind("predict_end"));
  // The training script of a pipeline stage passes the same gate before its chunk guard.
  j.pipeline_node = "semantic";
  j.walltime_s = 600;
  const std::string train = render_sbatch(j);
  EXPECT_LT(train.find("pipeline gate /tmp/pipe --node semantic "), train.find("journal chunk-start"));
  j.pipeline_dir.clear();
  EXPECT_EQ(render_sbatch(j).find("pipeline gate"), std::string::npos);
  expect_golden("local-predict.sbatch", text);
}

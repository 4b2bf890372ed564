// Planning: INI reading with file:line errors, cluster profiles, stage work, scaling, grace, candidate shapes,
// chunk/SU/finish arithmetic (hand-computed), the choice of the best shape, and the plan table.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/error.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/plan.hpp"
#include "slurm/rank_cpus.hpp"
#include "slurm/stage_work.hpp"
#include "slurm/throughput.hpp"

using namespace sdn::slurm;

namespace {

std::string source_dir() {
  const char* d = std::getenv("SDN_SOURCE_DIR");
  return d ? d : ".";
}

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdn::UsageError& e) {
    return e.what();
  }
  return "";
}

const char* kTinyProfile =
    "[cluster]\nname = t\nlauncher = srun\nstartup = 60s\nrequeue_gap = 100s\n"
    "[partition.a]\nmax_walltime = 01:00:00\ngpus_per_node = 4\nmax_gpus = 2\ncores_per_gpu = 2\n"
    "mem_per_gpu = 1G\ncharge_factor = 0.5\nqueue_wait = 10m\n"
    "[partition.x]\nmax_walltime = 02:00:00\ngpus_per_node = 4\nmax_nodes = 2\nexclusive = true\n";

PlanInputs inputs() {
  PlanInputs in;
  in.work.stage = "s";
  in.work.total_steps = 3600;
  in.work.global_batch = 4;
  in.work.per_gpu_batch = 1;
  in.images_per_s_per_gpu = 2.0;
  parse_scaling("1:1,2:0.75,8:0.6", in.scaling);
  in.ckpt_seconds = 10;
  in.now = 1000000;
  return in;
}

}  // namespace

TEST(SlurmIni, SectionsKeysAndTypedReadsWithLines) {
  auto doc = IniDoc::parse("top = 1\n# c\n[a.b]\nk = 5\nlist = x, y ,z\nd = 2h\nm = 92G\n", "f.ini");
  EXPECT_TRUE(doc.problems().empty());
  int top = 0, k = 0;
  EXPECT_TRUE(doc.read("top", top));
  EXPECT_TRUE(doc.read("a.b.k", k));
  EXPECT_EQ(k, 5);
  std::vector<std::string> list;
  doc.read("a.b.list", list);
  EXPECT_EQ(list, (std::vector<std::string>{"x", "y", "z"}));
  std::int64_t d = 0, m = 0;
  doc.read_duration("a.b.d", d);
  doc.read_size_mb("a.b.m", m);
  EXPECT_EQ(d, 7200);
  EXPECT_EQ(m, 92 * 1024);
  EXPECT_EQ(doc.where("a.b.k"), "f.ini:4");
  int missing = 7;
  EXPECT_FALSE(doc.read("nope", missing));
  EXPECT_EQ(missing, 7);
}

TEST(SlurmIni, EveryProblemNamesFileAndLine) {
  auto doc = IniDoc::parse("[s\nk 1\n[t]\nn = abc\nn = 2\n", "bad.ini");
  int n = 0;
  doc.read("t.n", n);
  ASSERT_EQ(doc.problems().size(), 4u);
  EXPECT_EQ(doc.problems()[0], "bad.ini:1: malformed section header '[s' (expected [name])");
  EXPECT_EQ(doc.problems()[1], "bad.ini:2: expected 'key = value', got 'k 1'");
  EXPECT_EQ(doc.problems()[2], "bad.ini:5: key 't.n' repeated (first at line 4)");
  EXPECT_NE(doc.problems()[3].find("bad.ini:4: t.n = 'abc': "), std::string::npos) << doc.problems()[3];
}

TEST(SlurmProfile, ShippedProfilesParse) {
  auto expanse = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  EXPECT_EQ(expanse.launcher, "srun --mpi=pmi2");
  ASSERT_NE(expanse.find("gpu"), nullptr);
  EXPECT_TRUE(expanse.find("gpu")->exclusive);
  EXPECT_EQ(expanse.find("gpu")->max_gpus, 16);
  EXPECT_EQ(expanse.find("gpu-debug")->max_walltime_s, 1800);
  EXPECT_DOUBLE_EQ(expanse.find("gpu-preempt")->charge_factor, 0.8);
  auto local = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/local.ini"));
  EXPECT_EQ(local.launcher, "srun --mpi=pmix");
  EXPECT_EQ(local.partitions.size(), 4u);
}

TEST(SlurmProfile, ReportsUnknownAndMissingKeysAtOnce) {
  std::string err = usage_error([] {
    parse_cluster_profile(IniDoc::parse("[cluster]\nname = c\nlaunchr = srun\n[partition.p]\nmax_walltime = 1h\n"
                                        "gpus_per_nod = 4\nmax_gpus = 99\n",
                                        "c.ini"));
  });
  EXPECT_NE(err.find("c.ini:3: unknown key 'cluster.launchr' (did you mean 'cluster.launcher'?)"), std::string::npos) << err;
  EXPECT_NE(err.find("c.ini:6: unknown key 'partition.p.gpus_per_nod' (did you mean 'partition.p.gpus_per_node'?)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("c.ini: missing key 'cluster.launcher'"), std::string::npos) << err;
  EXPECT_NE(err.find("c.ini:7: partition.p.max_gpus: must be between 1 and max_nodes x gpus_per_node"), std::string::npos)
      << err;
}

TEST(SlurmProfile, LookupByNameListsWhereItLooked) {
  std::string err = usage_error([] { resolve_cluster_path("nosuch", {"/d1", "/d2"}); });
  EXPECT_NE(err.find("no cluster profile named 'nosuch'; looked at:\n    /d1/nosuch.ini\n    /d2/nosuch.ini"),
            std::string::npos) << err;
}

TEST(SlurmStage, ReadsTheTrainersKeys) {
  auto w = read_stage_work(IniDoc::parse("stage = semantic\n[train]\nepochs = 3\niterations_per_epoch = 100\n"
                                         "global_batch = 8\nper_rank_batch = 2\n[model]\nname = drn_d_22\n",
                                         "/x/semantic-drn.ini"));
  EXPECT_EQ(w.total_steps, 300);
  EXPECT_EQ(w.total_images(), 2400);
  EXPECT_EQ(w.per_gpu_batch, 2);
  EXPECT_EQ(w.stage, "semantic-drn");
  StageWork given;
  given.total_steps = 50;
  EXPECT_EQ(read_stage_work(IniDoc::parse("[train]\nglobal_batch = 8\nper_rank_batch = 2\n", "a.ini"), given).total_steps,
            50);
}

TEST(SlurmStage, MissingAndInconsistentKeysAreNamed) {
  std::string err = usage_error([] { read_stage_work(IniDoc::parse("[train]\nepochs = 2\n", "s.ini")); });
  EXPECT_NE(err.find("s.ini: train.iterations_per_epoch is not set (one pass over the shards): the planner cannot see "
                     "the dataset, so give the total with --steps"),
            std::string::npos) << err;
  EXPECT_NE(err.find("s.ini: missing key 'train.global_batch'"), std::string::npos) << err;
  EXPECT_NE(err.find("s.ini: missing key 'train.per_rank_batch'"), std::string::npos) << err;
  err = usage_error([] {
    read_stage_work(IniDoc::parse("[train]\niterations_per_epoch = 10\nglobal_batch = 6\nper_rank_batch = 4\n", "s.ini"));
  });
  EXPECT_NE(err.find("s.ini:3: train.global_batch (6) is not a multiple of train.per_rank_batch (4)"), std::string::npos)
      << err;
}

TEST(SlurmPlan, ScalingInterpolatesInLog2AndClamps) {
  Scaling s;
  ASSERT_EQ(parse_scaling("8:0.6,1:1,2:0.9", s), "");
  EXPECT_DOUBLE_EQ(s.at(1), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 0.75);  // halfway between log2(2) and log2(8)
  EXPECT_DOUBLE_EQ(s.at(64), 0.6);
  EXPECT_NE(parse_scaling("2:1.5", s).find("'2:1.5' is not GPUS:EFFICIENCY"), std::string::npos);
  EXPECT_EQ(parse_scaling("2:1,2:0.9", s), "GPU count 2 given twice");
}

TEST(SlurmPlan, GraceCoversTwoSavesOneStepAndTheJobScript) {
  EXPECT_EQ(signal_grace_s(10, 0.5), 21 + 15);
  EXPECT_EQ(signal_grace_s(0, 0), 15);
  EXPECT_EQ(max_chunks_for(1), 3);
  EXPECT_EQ(max_chunks_for(10), 15);
}

TEST(SlurmPlan, CandidateShapesFollowPartitionRules) {
  auto cl = parse_cluster_profile(IniDoc::parse(kTinyProfile, "t.ini"));
  auto shapes = candidate_shapes(cl, inputs());
  std::vector<std::string> got;
  for (const auto& s : shapes) got.push_back(s.partition + ":" + std::to_string(s.gpus) + "/" + std::to_string(s.nodes));
  // a: shared, at most 2 GPUs; x: exclusive whole nodes, up to 2 nodes.
  EXPECT_EQ(got, (std::vector<std::string>{"a:1/1", "a:2/1", "x:4/1", "x:8/2"}));
  auto in = inputs();
  in.partitions = {"x"};
  in.gpu_counts = {8};
  ASSERT_EQ(candidate_shapes(cl, in).size(), 1u);
  EXPECT_EQ(candidate_shapes(cl, in)[0].gpus_per_node, 4);
}

TEST(SlurmPlan, EvaluateMatchesHandArithmetic) {
  auto cl = parse_cluster_profile(IniDoc::parse(kTinyProfile, "t.ini"));
  auto in = inputs();
  Shape s{"a", 1, 2, 2, 3600};
  Candidate c = evaluate_shape(cl, in, s, in.now + 600);
  ASSERT_TRUE(c.feasible) << c.why_not;
  EXPECT_EQ(c.accumulation, 2);                 // 4 / (2 GPUs x 1)
  EXPECT_DOUBLE_EQ(c.images_per_s, 3.0);        // 2 GPUs x 2.0 x 0.75
  EXPECT_DOUBLE_EQ(c.steps_per_s, 0.75);        // 3.0 / global batch 4
  EXPECT_EQ(c.grace_s, 20 + 2 + 15);            // ceil(2 x 10 + 1/0.75) + 15
  EXPECT_EQ(c.chunk_useful_s, 3600 - 60 - 37 - 30);  // start-up, grace, the signal's early delivery
  EXPECT_EQ(c.compute_s, 4800);                 // 3600 steps / 0.75
  EXPECT_EQ(c.chunks, 2);
  EXPECT_EQ(c.elapsed_s, 4800 + 2 * (60 + 10) + 1 * (100 + 600));
  EXPECT_DOUBLE_EQ(c.billed_gpu_hours, 2 * (4800 + 2 * 70) / 3600.0);
  EXPECT_DOUBLE_EQ(c.service_units, c.billed_gpu_hours * 0.5);
  EXPECT_EQ(c.finish_time, in.now + 600 + c.elapsed_s);
  // Re-planning a running chain counts only the steps left.
  in.done_steps = 3000;
  Candidate rest = evaluate_shape(cl, in, s, in.now);
  EXPECT_EQ(rest.compute_s, 800);               // 600 steps / 0.75
  EXPECT_EQ(rest.chunks, 1);
  in.done_steps = 0;
  // Exclusive partitions bill whole nodes.
  Candidate x = evaluate_shape(cl, in, Shape{"x", 1, 4, 4, 7200}, in.now);
  ASSERT_TRUE(x.feasible) << x.why_not;
  EXPECT_EQ(x.accumulation, 1);
  EXPECT_DOUBLE_EQ(x.billed_gpu_hours, 4 * static_cast<double>(x.compute_s + x.chunks * 70) / 3600.0);
}

TEST(SlurmPlan, InfeasibleShapesSayWhy) {
  auto cl = parse_cluster_profile(IniDoc::parse(kTinyProfile, "t.ini"));
  auto in = inputs();
  EXPECT_EQ(evaluate_shape(cl, in, Shape{"x", 2, 8, 4, 7200}, in.now).why_not,
            "global batch 4 is not a multiple of 8 GPUs x 1 per GPU");
  EXPECT_EQ(evaluate_shape(cl, in, Shape{"a", 1, 1, 1, 7200}, in.now).why_not,
            "time limit 02:00:00 exceeds the partition's 01:00:00");
  EXPECT_NE(evaluate_shape(cl, in, Shape{"a", 1, 1, 1, 120}, in.now).why_not.find("leaves no training time"),
            std::string::npos);
}

TEST(SlurmPlan, BestIsEarliestFinishThenFewestUnits) {
  auto cl = parse_cluster_profile(IniDoc::parse(kTinyProfile, "t.ini"));
  auto in = inputs();
  auto cs = plan_candidates(cl, in);
  int best = pick_best(cs);
  ASSERT_GE(best, 0);
  for (const auto& c : cs)
    if (c.feasible) {
      EXPECT_LE(cs[best].finish_time, c.finish_time);
    }
  // A probe that says the fast shape starts much later flips the choice.
  for (auto& c : cs)
    if (c.feasible && c.shape.partition == cs[best].shape.partition && c.shape.gpus == cs[best].shape.gpus)
      c = evaluate_shape(cl, in, c.shape, in.now + 100000);
  int after = pick_best(cs);
  EXPECT_NE(cs[after].shape.gpus * 100 + cs[after].shape.nodes, cs[best].shape.gpus * 100 + cs[best].shape.nodes);
  std::string table = format_plan_table(in, cs, after);
  EXPECT_NE(table.find("not possible:\n    x x 8 GPUs: global batch 4 is not a multiple of 8 GPUs x 1 per GPU"),
            std::string::npos) << table;
  EXPECT_NE(table.find("* "), std::string::npos) << table;
}

TEST(SlurmThroughput, FromJournalAndBenchJson) {
  std::string journal;
  for (int i = 1; i <= 6; ++i)
    journal += "{\"event\":\"progress\",\"step\":" + std::to_string(i) + ",\"images_per_s\":" +
               std::to_string(i < 4 ? 2 : 40) + ",\"world_size\":2}\n";
  journal += "{\"event\":\"checkpoint\",\"step\":6,\"seconds\":7.5}\n";
  auto m = parse_measured(journal, "j.jsonl");
  EXPECT_DOUBLE_EQ(m.images_per_s_per_gpu, 20.0);  // median of the newer half, per rank
  EXPECT_DOUBLE_EQ(m.ckpt_seconds, 7.5);
  auto b = parse_measured("{\"images_per_s\": 30, \"world_size\": 3, \"ckpt_seconds\": 4}", "b.json");
  EXPECT_DOUBLE_EQ(b.images_per_s_per_gpu, 10.0);
  EXPECT_DOUBLE_EQ(b.ckpt_seconds, 4.0);
  EXPECT_NE(usage_error([] { parse_measured("{\"event\":\"plan\"}\n", "e.jsonl"); })
                .find("e.jsonl: no progress event with a positive images_per_s"),
            std::string::npos);
}

// Node-local staging (data.stage_to, issue 11 item 7): the trainer journals "stage_data"; every job pays it on
// top of the cluster's start-up, so it shortens each chunk and lengthens the run; without it nothing changes.
TEST(SlurmPlan, NodeLocalStagingIsAPerChunkOverhead) {
  auto cl = parse_cluster_profile(IniDoc::parse(kTinyProfile, "t.ini"));
  auto in = inputs();
  const Shape s{"a", 1, 2, 2, 3600};
  const Candidate plain = evaluate_shape(cl, in, s, in.now);
  const auto journal = std::string("{\"event\":\"progress\",\"step\":1,\"images_per_s\":4,\"world_size\":2}\n") +
                       "{\"event\":\"stage_data\",\"seconds\":300.2,\"bytes\":1000}\n"
                       "{\"event\":\"stage_data\",\"seconds\":120,\"bytes\":1000}\n";
  in.stage_seconds = parse_measured(journal, "j.jsonl").stage_seconds;
  EXPECT_DOUBLE_EQ(in.stage_seconds, 300.2);  // the slowest job's staging
  const Candidate staged = evaluate_shape(cl, in, s, in.now);
  ASSERT_TRUE(staged.feasible) << staged.why_not;
  EXPECT_EQ(staged.chunk_useful_s, plain.chunk_useful_s - 301);
  EXPECT_EQ(staged.chunks, 2);
  EXPECT_EQ(staged.elapsed_s, plain.elapsed_s + staged.chunks * 301);
  EXPECT_DOUBLE_EQ(staged.billed_gpu_hours, 2 * (4800 + 2 * (70 + 301)) / 3600.0);
  const std::string table = format_plan_table(in, {staged}, 0);
  EXPECT_NE(table.find("node-local staging of the shards: 300 s per job"), std::string::npos) << table;
  EXPECT_EQ(format_plan_table(inputs(), {plain}, 0).find("staging"), std::string::npos);
}

// Expanse's per-user limits are in the profile; shared jobs are billed for their largest fraction of a node.
TEST(SlurmLimits, ProfileLimitsQueueLimitAndSharedBilling) {
  auto ex = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  const Partition& gpu = *ex.find("gpu");
  EXPECT_EQ(gpu.max_jobs, 8);
  EXPECT_EQ(gpu.max_user_gpus, 32);
  EXPECT_EQ(ex.find("gpu-shared")->max_jobs, 24);
  EXPECT_EQ(ex.find("gpu-shared")->max_user_gpus, 24);
  EXPECT_EQ(ex.find("gpu-preempt")->max_user_gpus, 24);
  EXPECT_EQ(ex.find("gpu-debug")->max_jobs, 2);
  EXPECT_EQ(ex.find("gpu-debug")->max_running, 1);
  EXPECT_EQ(ex.account_placeholder, ex.account);  // the shipped account is the example: plans refuse it
  EXPECT_EQ(queue_limit(gpu, 4), 8);    // 8 jobs, 8 x 4 = 32 GPUs
  EXPECT_EQ(queue_limit(gpu, 16), 2);   // 32 GPUs / 16
  EXPECT_EQ(queue_limit(*ex.find("gpu-shared"), 3), 8);  // 24 GPUs / 3

  // Shared: 1 GPU, 10 of 40 cores, 92G of 384G -> the GPU fraction (1/4) decides: 1 GPU billed.
  Partition shared = *ex.find("gpu-shared");
  EXPECT_DOUBLE_EQ(billed_gpus_for(shared, Shape{"gpu-shared", 1, 1, 1, 3600}), 1.0);
  // 20 cores per GPU: the core fraction (20/40) decides: 2 GPUs billed for a 1-GPU job.
  shared.cores_per_gpu = 20;
  EXPECT_DOUBLE_EQ(billed_gpus_for(shared, Shape{"gpu-shared", 1, 1, 1, 3600}), 2.0);
  // 192G per GPU: the memory fraction (192/384) decides.
  shared.cores_per_gpu = 10;
  shared.mem_per_gpu_mb = 192 * 1024;
  EXPECT_DOUBLE_EQ(billed_gpus_for(shared, Shape{"gpu-shared", 1, 1, 1, 3600}), 2.0);
  EXPECT_DOUBLE_EQ(billed_gpus_for(gpu, Shape{"gpu", 2, 8, 4, 3600}), 8.0);  // exclusive: whole nodes

  // The SU estimate uses it.
  PlanInputs in = inputs();
  Candidate c = evaluate_shape(ex, in, Shape{"gpu-shared", 1, 1, 1, 3600}, in.now);
  ASSERT_TRUE(c.feasible) << c.why_not;
  ex.partitions[1].cores_per_gpu = 20;
  ASSERT_EQ(ex.partitions[1].name, "gpu-shared");
  Candidate c2 = evaluate_shape(ex, in, Shape{"gpu-shared", 1, 1, 1, 3600}, in.now);
  EXPECT_NEAR(c2.billed_gpu_hours, 2 * c.billed_gpu_hours, 1e-9);

  // A job above the per-user GPU limit is not possible.
  Partition tight = gpu;
  tight.max_user_gpus = 8;
  ex.partitions[0] = tight;
  Candidate big = evaluate_shape(ex, in, Shape{"gpu", 4, 16, 4, 3600}, in.now);
  EXPECT_FALSE(big.feasible);
  EXPECT_NE(big.why_not.find("per-user limit of 8 GPUs"), std::string::npos) << big.why_not;
}

TEST(SlurmLimits, ChainQueueStaysWithinTheLimits) {
  auto ex = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  const Partition& gpu = *ex.find("gpu");
  // 3 chunks + 1 spare on 4 GPUs: 4 jobs <= 8, unchanged.
  ChainQueue q = plan_chain_queue(gpu, 4, 3, 4, false);
  EXPECT_EQ(q.jobs, 4);
  EXPECT_FALSE(q.reshape);
  EXPECT_TRUE(q.note.empty());
  // 16 GPUs: 2 jobs at most (32 GPUs). 2 chunks: queue 2 (no spare), and say so.
  q = plan_chain_queue(gpu, 16, 2, 3, false);
  EXPECT_EQ(q.jobs, 2);
  EXPECT_FALSE(q.reshape);
  EXPECT_NE(q.note.find("queueing 2 jobs instead of 3"), std::string::npos) << q.note;
  // 3 chunks do not fit: a reshaping chain, one queued at a time.
  q = plan_chain_queue(gpu, 16, 3, 4, false);
  EXPECT_EQ(q.jobs, 1);
  EXPECT_TRUE(q.reshape);
  EXPECT_NE(q.note.find("reshaping chain instead"), std::string::npos) << q.note;
  // gpu-debug: 2 jobs; a 5-chunk chain reshapes.
  q = plan_chain_queue(*ex.find("gpu-debug"), 1, 5, 6, false);
  EXPECT_TRUE(q.reshape);
  EXPECT_EQ(q.note.find("even that"), std::string::npos);
}

// Command-line overrides are written into run.ini: existing keys replaced in place, missing ones added to their
// section, the rest verbatim; idempotent.
TEST(SlurmIni, SetValuesReplacesAddsAndKeepsTheRest) {
  const std::string text = "stage = semantic\n# keep me\n[train]\n  epochs = 4   \nglobal_batch = 2\n\n[model]\narch = x\n";
  const std::string out = set_ini_values(
      text, {{"train.global_batch", "8"}, {"train.per_rank_batch", "2"}, {"optim.lr", "0.04"}, {"stage", "semantic"}});
  EXPECT_EQ(out, "stage = semantic\n# keep me\n[train]\n  epochs = 4   \nglobal_batch = 8\nper_rank_batch = 2\n\n"
                 "[model]\narch = x\n\n[optim]\nlr = 0.04\n");
  EXPECT_EQ(set_ini_values(out, {{"train.global_batch", "8"}, {"train.per_rank_batch", "2"}, {"optim.lr", "0.04"}}), out);
  auto w = read_stage_work(IniDoc::parse(set_ini_values(text, {{"train.iterations_per_epoch", "25"},
                                                               {"train.per_rank_batch", "1"}}), "s.ini"));
  EXPECT_EQ(w.total_steps, 100);
  EXPECT_EQ(w.global_batch, 2);
}

// The threads a rank starts against the cores it gets.
TEST(SlurmThreads, WarnsWhenThreadsOversubscribeTheCores) {
  RankThreads t = read_rank_threads(IniDoc::parse("[train]\nthreads = 4\n[data]\nthreads = 2\n", "s.ini"));
  EXPECT_EQ(t.total(), 6);
  EXPECT_TRUE(oversubscription_warning(t, 10).empty());
  EXPECT_TRUE(oversubscription_warning(t, 6).empty());
  const std::string w = oversubscription_warning(t, 1);
  EXPECT_NE(w.find("6 threads (train.threads = 4, data.threads = 2) on 1 core:"), std::string::npos) << w;
  RankThreads d = read_rank_threads(IniDoc::parse("[train]\nepochs = 1\n", "s.ini"));  // the trainer's defaults
  EXPECT_EQ(d.train_threads, 1);
  EXPECT_EQ(d.data_threads, 2);
  EXPECT_FALSE(oversubscription_warning(d, 2).empty());
}

// `sdn plan --steps/--global-batch/--batch-per-rank` and the trainer agree: run.ini carries the overrides, and
// reading it back gives the planned work (issue 9, item 12).
TEST(SlurmStage, OverridesAreWrittenIntoRunIni) {
  const std::string stage = "stage = semantic\n[train]\nepochs = 4\niterations_per_epoch = 100\nglobal_batch = 2\n"
                            "per_rank_batch = 1\n";
  StageWork given;
  given.total_steps = 1000;
  given.global_batch = 8;
  given.per_gpu_batch = 2;
  const StageWork planned = read_stage_work(IniDoc::parse(stage, "s.ini"), given);
  const std::string run_ini = run_ini_text(stage, "s.ini", given);
  const StageWork trained = read_stage_work(IniDoc::parse(run_ini, "run.ini"));
  EXPECT_EQ(trained.total_steps, planned.total_steps);
  EXPECT_EQ(trained.global_batch, 8);
  EXPECT_EQ(trained.per_gpu_batch, 2);
  EXPECT_NE(run_ini.find("epochs = 4\niterations_per_epoch = 250\n"), std::string::npos) << run_ini;
  given.total_steps = 1001;  // not a multiple of 4 epochs
  EXPECT_NE(run_ini_text(stage, "s.ini", given).find("epochs = 1\niterations_per_epoch = 1001\n"), std::string::npos);
  EXPECT_EQ(run_ini_text(stage, "s.ini", StageWork{}), stage);  // no overrides: verbatim
  // Without train.epochs both sides use the trainer's default of 100.
  EXPECT_EQ(read_stage_work(IniDoc::parse("[train]\niterations_per_epoch = 10\nglobal_batch = 2\nper_rank_batch = 1\n",
                                          "s.ini")).total_steps, 1000);
}

// Recipe scaling (issue 11, item 8): the arithmetic, and the planner scaling each shape's recipe.
TEST(SlurmRecipe, ScalesBatchLrStepsAndWarmup) {
  using namespace sdn::recipe;
  Rule rule;
  EXPECT_TRUE(parse_rule("linear", rule).empty());
  EXPECT_EQ(rule, Rule::kLinear);
  EXPECT_FALSE(parse_rule("cubic", rule).empty());
  const Recipe base{500000, 2, 1, 0.01, 0};
  Recipe lin = scale(base, 8, Rule::kLinear);
  EXPECT_EQ(lin.global_batch, 8);
  EXPECT_DOUBLE_EQ(lin.lr, 0.04);
  EXPECT_EQ(lin.total_steps, 125000);  // same 1,000,000 images
  EXPECT_EQ(lin.warmup_steps, 6250);   // 5% of the new steps
  Recipe sq = scale(base, 8, Rule::kSqrt);
  EXPECT_DOUBLE_EQ(sq.lr, 0.02);
  EXPECT_EQ(sq.total_steps, 125000);
  EXPECT_EQ(sq.warmup_steps, 0);
  Recipe odd = scale(Recipe{1001, 2, 1, 0.01, 100}, 4, Rule::kLinear);
  EXPECT_EQ(odd.total_steps, 501);     // ceil: never fewer images than the original
  EXPECT_EQ(odd.warmup_steps, 50);     // the old warm-up (100 steps of batch 2 -> 50 of 4) beats 5% (26)
  EXPECT_EQ(scale(base, 8, Rule::kNone).global_batch, 2);
}

TEST(SlurmRecipe, PlanScalesEachShapeAndShowsTheRecipe) {
  auto ex = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  PlanInputs in;
  in.work = read_stage_work(IniDoc::load(source_dir() + "/configs/semantic.ini"));
  in.images_per_s_per_gpu = 4;
  parse_scaling("1:1,4:0.9", in.scaling);
  in.partitions = {"gpu"};
  in.gpu_counts = {4};
  auto plain = plan_candidates(ex, in);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].feasible);  // global batch 2 cannot run on 4 GPUs
  in.scale_rule = sdn::recipe::Rule::kLinear;
  auto scaled = plan_candidates(ex, in);
  ASSERT_TRUE(scaled[0].feasible) << scaled[0].why_not;
  EXPECT_EQ(scaled[0].work.global_batch, 4);
  EXPECT_EQ(scaled[0].work.total_steps, in.work.total_steps / 2);
  EXPECT_DOUBLE_EQ(scaled[0].work.lr, 2 * in.work.lr);
  const std::string table = format_plan_table(in, scaled, pick_best(scaled));
  EXPECT_NE(table.find("recipe: global batch 4 (4 GPUs x 1), lr 0.02 (linear rule, x2)"), std::string::npos) << table;
  EXPECT_NE(table.find("check the accuracy"), std::string::npos);
}

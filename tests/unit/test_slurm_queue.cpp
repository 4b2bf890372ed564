// The user's jobs already in the queue and the per-user limits (issue 11, item 5): parsing `squeue --me`, GPUs
// from TRES texts of Slurm 22.05 and 23.02, the per-partition sums, and how the planner subtracts them (shapes
// that no longer fit, fewer queued chain jobs, the start waiting for a running slot, max_running in the note).
#include <gtest/gtest.h>

#include <cstdlib>

#include "slurm/cluster_profile.hpp"
#include "slurm/plan.hpp"
#include "slurm/queue_usage.hpp"

using namespace sdn::slurm;

namespace {

ClusterProfile expanse() {
  const char* d = std::getenv("SDN_SOURCE_DIR");
  return parse_cluster_profile(IniDoc::load(std::string(d ? d : ".") + "/configs/clusters/expanse.ini"));
}

PlanInputs inputs() {
  PlanInputs in;
  in.work.stage = "s";
  in.work.total_steps = 3600;
  in.work.global_batch = 4;
  in.work.per_gpu_batch = 1;
  in.images_per_s_per_gpu = 2.0;
  parse_scaling("1:1", in.scaling);
  in.ckpt_seconds = 10;
  in.now = 1000000;
  return in;
}

}  // namespace

TEST(SlurmQueue, GpusFromTresOfBothSlurmVersions) {
  // Allocated (running) or requested (pending) TRES; typed and untyped both listed: the untyped count.
  EXPECT_EQ(gpus_of("cpu=20,mem=184G,node=1,billing=2,gres/gpu=2", "", "", "", 1, 2), 2);
  EXPECT_EQ(gpus_of("cpu=40,node=1,gres/gpu=4,gres/gpu:v100=4", "", "", "", 1, 4), 4);
  EXPECT_EQ(gpus_of("cpu=40,node=1,gres/gpu:v100=4", "", "", "", 1, 4), 4);
  // No GPU in the TRES (accounting without gres/gpu): the request. 22.05 "gres:gpu:N", 23.02 "gres/gpu:N".
  EXPECT_EQ(gpus_of("cpu=2,mem=512M,node=1", "gres:gpu:3", "N/A", "N/A", 1, 1), 3);
  EXPECT_EQ(gpus_of("cpu=2,node=2", "N/A", "gres/gpu:4", "N/A", 2, 8), 8);      // per node x nodes
  EXPECT_EQ(gpus_of("cpu=2,node=1", "N/A", "N/A", "gres:gpu:1", 1, 2), 2);      // per task x tasks
  EXPECT_EQ(gpus_of("cpu=2,node=1", "N/A", "gres:gpu:v100:2", "N/A", 1, 2), 2);  // typed request
  EXPECT_EQ(gpus_of("cpu=2,node=1", "N/A", "N/A", "N/A", 1, 1), 0);              // a CPU job
  EXPECT_EQ(gpus_of("", "", "gres/shard:2", "", 1, 1), 0);                       // not a GPU
}

TEST(SlurmQueue, ParsesSqueueAndSumsPerPartitionWithoutThisRun) {
  const std::string out =
      "101|train-a|gpu|RUNNING|2026-12-01T15:00:00|1|4|cpu=40,node=1,gres/gpu=4|N/A|gres/gpu:4|N/A|\n"
      "102|train-a|gpu|PENDING|N/A|2|8|cpu=80,node=2|N/A|gres/gpu:4|N/A|\n"
      "103|sdn-semantic-4d5e6f|gpu|PENDING|N/A|1|4|cpu=40,node=1|N/A|gres/gpu:4|N/A|\n"
      "104|nb|gpu-debug,gpu-shared|PENDING|N/A|1|1|cpu=10,node=1|gres/gpu:1|N/A|N/A|\n"
      "\n"
      "garbage line\n";
  const auto jobs = parse_user_jobs(out);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].job_id, "101");
  EXPECT_EQ(jobs[0].state, "RUNNING");
  EXPECT_GT(jobs[0].end, 0);
  EXPECT_EQ(jobs[1].end, 0);  // N/A
  EXPECT_EQ(jobs[1].gpus, 8);
  EXPECT_EQ(jobs[3].gpus, 1);

  const auto u = usage_by_partition(jobs, "sdn-semantic-4d5e6f");  // 103 is this run's own: not counted
  ASSERT_EQ(u.size(), 3u);
  const QueueUsage& gpu = u.at("gpu");
  EXPECT_EQ(gpu.jobs, 2);
  EXPECT_EQ(gpu.running, 1);
  EXPECT_EQ(gpu.gpus, 12);
  EXPECT_EQ(gpu.first_end, jobs[0].end);
  EXPECT_EQ(u.at("gpu-debug").jobs, 1);  // pending in two partitions: counts in both
  EXPECT_EQ(u.at("gpu-shared").gpus, 1);
  EXPECT_EQ(describe_usage(u), "gpu 2 jobs (1 running), 12 GPUs; gpu-debug 1 job (0 running), 1 GPU; "
                               "gpu-shared 1 job (0 running), 1 GPU");
  EXPECT_EQ(describe_usage({}), "none");
  EXPECT_EQ(usage_by_partition(jobs, "").at("gpu").jobs, 3);
}

TEST(SlurmQueue, TheUsersJobsShrinkTheChainsQueue) {
  const auto ex = expanse();
  const Partition& gpu = *ex.find("gpu");  // 8 jobs / 32 GPUs
  QueueUsage used;
  used.jobs = 5;
  used.gpus = 12;
  EXPECT_EQ(queue_limit(gpu, 4), 8);
  EXPECT_EQ(queue_limit(gpu, 4, used), 3);   // min(8 - 5 jobs, (32 - 12) / 4 = 5)
  used.jobs = 1;
  EXPECT_EQ(queue_limit(gpu, 4, used), 5);   // now the GPUs decide
  used.gpus = 40;
  EXPECT_EQ(queue_limit(gpu, 4, used), 0);   // already over: nothing more fits

  // 3 chunks + 1 spare on 4 GPUs fit alone (tests/unit/test_slurm_plan.cpp); with 5 jobs (12 GPUs) already
  // queued only 3 do: no spare, and the note says what it counted.
  used = QueueUsage{5, 1, 12, 0};
  ChainQueue q = plan_chain_queue(gpu, 4, 3, 4, false, used);
  EXPECT_EQ(q.jobs, 3);
  EXPECT_FALSE(q.reshape);
  EXPECT_NE(q.note.find("queueing 3 jobs instead of 4"), std::string::npos) << q.note;
  EXPECT_NE(q.note.find("your 5 jobs already there hold 12 GPUs"), std::string::npos) << q.note;
  // 6 jobs already: 2 fit, fewer than the 3 chunks: a reshaping chain.
  used.jobs = 6;
  q = plan_chain_queue(gpu, 4, 3, 4, false, used);
  EXPECT_TRUE(q.reshape);
  EXPECT_EQ(q.jobs, 1);
  EXPECT_EQ(q.note.find("even that"), std::string::npos) << q.note;
  // 7: not even the 2 a reshaping chain holds at once.
  used.jobs = 7;
  q = plan_chain_queue(gpu, 4, 1, 2, true, used);
  EXPECT_NE(q.note.find("reshaping needs 2 jobs at once"), std::string::npos) << q.note;
}

TEST(SlurmQueue, MaxRunningIsRespectedAndSaidInTheNote) {
  const auto ex = expanse();
  const Partition& debug = *ex.find("gpu-debug");  // 2 jobs, 1 running
  // A 2-chunk chain with a spare wants 3 jobs: 2 are allowed, and only 1 runs at a time.
  ChainQueue q = plan_chain_queue(debug, 1, 2, 3, false);
  EXPECT_EQ(q.jobs, 2);
  EXPECT_NE(q.note.find("queueing 2 jobs instead of 3"), std::string::npos) << q.note;
  EXPECT_NE(q.note.find("gpu-debug runs at most 1 job per user at a time"), std::string::npos) << q.note;
  // Within the job limit, the running limit is still said.
  q = plan_chain_queue(debug, 1, 1, 2, false);
  EXPECT_EQ(q.jobs, 2);
  EXPECT_EQ(q.note.rfind("gpu-debug runs at most 1 job", 0), 0u) << q.note;
  // gpu allows 4 running: a 4-job chain gets no running note.
  EXPECT_TRUE(plan_chain_queue(*ex.find("gpu"), 4, 3, 4, false).note.empty());
}

TEST(SlurmQueue, ShapesAndStartTimesCountTheUsersJobs) {
  const auto ex = expanse();
  PlanInputs in = inputs();
  const Shape debug1{"gpu-debug", 1, 1, 1, 1800};
  const Candidate free = evaluate_shape(ex, in, debug1, in.now);
  ASSERT_TRUE(free.feasible) << free.why_not;
  EXPECT_TRUE(free.start_note.empty());

  // One running job of the user on gpu-debug, ending in 20 minutes: it holds the only running slot, so the
  // first chunk starts then; start and finish move by exactly that.
  in.queued["gpu-debug"] = QueueUsage{1, 1, 1, in.now + 1200};
  const Candidate wait = evaluate_shape(ex, in, debug1, in.now);
  ASSERT_TRUE(wait.feasible) << wait.why_not;
  EXPECT_EQ(wait.start_time, in.now + 1200);
  EXPECT_EQ(wait.finish_time, free.finish_time + 1200);
  EXPECT_NE(wait.start_note.find("your 1 running job on gpu-debug holds its 1 running slot"), std::string::npos)
      << wait.start_note;
  EXPECT_NE(wait.start_note.find("+00:20:00"), std::string::npos) << wait.start_note;
  // Its end unknown: not moved, and said.
  in.queued["gpu-debug"].first_end = 0;
  const Candidate unknown = evaluate_shape(ex, in, debug1, in.now);
  EXPECT_EQ(unknown.start_time, in.now);
  EXPECT_NE(unknown.start_note.find("unknown"), std::string::npos) << unknown.start_note;

  // Two jobs there already: gpu-debug's limit of 2 is reached, the shape is not possible.
  in.queued["gpu-debug"] = QueueUsage{2, 1, 2, 0};
  const Candidate full = evaluate_shape(ex, in, debug1, in.now);
  EXPECT_FALSE(full.feasible);
  EXPECT_NE(full.why_not.find("your 2 jobs already in the queue reach the per-user limit of 2 jobs"), std::string::npos)
      << full.why_not;

  // gpu: 28 of 32 GPUs held by the user's jobs: 4 GPUs fit, 8 do not.
  in.queued["gpu"] = QueueUsage{3, 2, 28, 0};
  EXPECT_TRUE(evaluate_shape(ex, in, Shape{"gpu", 1, 4, 4, 3600}, in.now).feasible);
  const Candidate eight = evaluate_shape(ex, in, Shape{"gpu", 2, 8, 4, 3600}, in.now);
  EXPECT_FALSE(eight.feasible);
  EXPECT_NE(eight.why_not.find("your jobs already in the queue hold 28"), std::string::npos) << eight.why_not;
}

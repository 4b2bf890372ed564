// Run bookkeeping: the journal (durable appends, torn last line), the journal summary, the loop guards
// (complete, cancelled, no progress, chunk budget, killed chunks, failures), Slurm output parsers and the
// status view.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "slurm/chain_report.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/run_state.hpp"
#include "slurm/scheduler.hpp"
#include "slurm/status_view.hpp"

using namespace sdn::slurm;
namespace journal = sdn::journal;

namespace {

journal::Event ev(const std::string& kind, double t, journal::Event fields = journal::Event::object()) {
  fields["event"] = kind;
  fields["time"] = t;
  return fields;
}

std::vector<journal::Event> submitted_with_one_chunk(std::int64_t start_step) {
  return {ev("submit", 10, {{"mode", "requeue"}, {"job_ids", {"7"}}}),
          ev("chunk_start", 20, {{"job_id", "7"}, {"step", start_step}, {"node", "n1"}})};
}

}  // namespace

TEST(SlurmJournal, AppendsLinesAndToleratesATornTail) {
  const std::string path = ::testing::TempDir() + "journal-torn.jsonl";
  std::remove(path.c_str());
  journal::append(path, ev("progress", 1, {{"step", 1}}));
  { std::ofstream(path, std::ios::app) << "{\"event\":\"progress\",\"st"; }  // a writer killed mid-line
  auto r = journal::read(path);
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.torn_tail);
  journal::append(path, ev("progress", 2, {{"step", 2}}));  // must not glue onto the fragment
  r = journal::read(path);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1]["step"], 2);
  EXPECT_FALSE(r.torn_tail);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], path + ":2: not a journal event (JSON object with an \"event\" field); line skipped");
  EXPECT_TRUE(journal::read(path + ".missing").events.empty());
  EXPECT_THROW(journal::append(path, journal::Event::array()), sdn::Error);
}

TEST(SlurmRunState, SummaryFollowsChunksProgressAndSubmissions) {
  auto events = submitted_with_one_chunk(0);
  events.push_back(ev("progress", 25, {{"step", 40}, {"total_steps", 100}, {"loss", 0.5}, {"images_per_s", 8.0}}));
  events.push_back(ev("checkpoint", 29, {{"step", 50}, {"seconds", 3.5}}));
  events.push_back(ev("chunk_end", 30, {{"exit_code", 3}, {"step", 50}, {"action", "continue"}, {"reason", "checkpoint"}}));
  events.push_back(ev("chunk_start", 40, {{"job_id", "7"}, {"restart", 1}, {"step", 50}}));
  auto s = summarize(events);
  ASSERT_EQ(s.chunks.size(), 2u);
  EXPECT_EQ(s.chunks[0].step_end, 50);
  EXPECT_EQ(s.chunks[1].restart, 1);
  EXPECT_EQ(s.chunks[1].end, 0);
  EXPECT_EQ(s.chunks_since_submit, 2);
  EXPECT_EQ(s.total_steps, 100);
  EXPECT_DOUBLE_EQ(s.ckpt_seconds_max, 3.5);
  events.push_back(ev("run_end", 50, {{"reason", "failure"}, {"message", "boom"}}));
  EXPECT_TRUE(summarize(events).stopped);
  events.push_back(ev("submit", 60, {{"mode", "chain"}, {"job_ids", {"8", "9"}}}));  // a re-submit clears the stop
  s = summarize(events);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.chunks_since_submit, 0);
  EXPECT_EQ(s.job_ids, (std::vector<std::string>{"8", "9"}));
}

TEST(SlurmGuards, ChunkEndDecisions) {
  auto s = summarize(submitted_with_one_chunk(100));
  EXPECT_EQ(decide_chunk_end(s, 0, 200).action, "done");
  EXPECT_EQ(decide_chunk_end(s, 3, 150).action, "continue");
  Decision d = decide_chunk_end(s, 3, 100);
  EXPECT_EQ(d.action, "stop");
  EXPECT_EQ(d.reason, "no_progress");
  EXPECT_NE(d.message.find("names step 100, not newer than step 100 at its start"), std::string::npos) << d.message;
  d = decide_chunk_end(s, 1, 150);
  EXPECT_EQ(d.reason, "failure");
  EXPECT_NE(d.message.find("failed with exit code 1"), std::string::npos);
  // The trainer's journaled error of this chunk is quoted (first line); one of an earlier chunk is not.
  auto failed = submitted_with_one_chunk(100);
  failed.push_back(ev("train_end", 25, {{"reason", "error"}, {"message", "cannot create RUN/ckpt\n  hint: ..."}}));
  d = decide_chunk_end(summarize(failed), 1, 100);
  EXPECT_NE(d.message.find("failed with exit code 1: cannot create RUN/ckpt;"), std::string::npos) << d.message;
  failed[2]["time"] = 5;
  EXPECT_EQ(decide_chunk_end(summarize(failed), 1, 100).message.find("cannot create"), std::string::npos);
  EXPECT_NE(decide_chunk_end(s, 137, 150).message.find("killed by signal 9"), std::string::npos);
  // Death by a forwarded stop signal (USR2 = 12, TERM = 15) counts as a stop only with a newer checkpoint.
  EXPECT_EQ(decide_chunk_end(s, 128 + 12, 150).action, "continue");
  EXPECT_EQ(decide_chunk_end(s, 128 + 15, 150).action, "continue");
  EXPECT_EQ(decide_chunk_end(s, 128 + 12, 100).reason, "failure");
  EXPECT_EQ(decide_chunk_end(s, 128 + 11, 150).reason, "failure");
  auto events = submitted_with_one_chunk(100);
  events.push_back(ev("cancel", 30));
  EXPECT_EQ(decide_chunk_end(summarize(events), 3, 150).reason, "cancelled");
}

TEST(SlurmGuards, ChunkStartDecisions) {
  RunState fresh = summarize({ev("submit", 1)});
  EXPECT_EQ(decide_chunk_start(fresh, 3, 0).action, "run");
  // Budget: three chunks already ran in this submission.
  std::vector<journal::Event> events = {ev("submit", 1)};
  for (int i = 0; i < 3; ++i) {
    events.push_back(ev("chunk_start", 10 + i * 10, {{"job_id", "5"}, {"step", i * 10}}));
    events.push_back(ev("chunk_end", 15 + i * 10, {{"exit_code", 3}, {"step", i * 10 + 10}, {"action", "continue"}}));
  }
  EXPECT_EQ(decide_chunk_start(summarize(events), 3, 30).reason, "max_chunks");
  EXPECT_EQ(decide_chunk_start(summarize(events), 4, 30).action, "run");
  // A chunk killed without an end record and without a newer checkpoint: no progress.
  auto killed = submitted_with_one_chunk(40);
  EXPECT_EQ(decide_chunk_start(summarize(killed), 5, 40).reason, "no_progress");
  EXPECT_EQ(decide_chunk_start(summarize(killed), 5, 60).action, "run");
  // Finished runs.
  auto done = submitted_with_one_chunk(0);
  done.push_back(ev("run_end", 30, {{"reason", "complete"}}));
  EXPECT_EQ(decide_chunk_start(summarize(done), 5, 0).action, "done");
  auto stopped = submitted_with_one_chunk(0);
  stopped.push_back(ev("run_end", 30, {{"reason", "no_progress"}, {"message", "m"}}));
  EXPECT_EQ(decide_chunk_start(summarize(stopped), 5, 0).action, "stop");
  auto cancelled = submitted_with_one_chunk(0);
  cancelled.push_back(ev("cancel", 30));
  EXPECT_EQ(decide_chunk_start(summarize(cancelled), 5, 0).reason, "cancelled");
}

TEST(SlurmParsers, LatestPointerSbatchTestOnlySqueue) {
  EXPECT_EQ(parse_latest_pointer("step-00001200.h5\n"), 1200);
  EXPECT_EQ(parse_latest_pointer("ckpt/step-00000007.h5"), 7);
  EXPECT_EQ(parse_latest_pointer("step-12x.h5"), -1);
  EXPECT_EQ(parse_latest_pointer(""), -1);
  EXPECT_EQ(parse_sbatch_job_id("123\n"), "123");
  EXPECT_EQ(parse_sbatch_job_id("456;expanse\n"), "456");
  EXPECT_EQ(parse_sbatch_job_id("Submitted batch job 789\n"), "789");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: Batch job submission failed"), "");
  auto t = parse_test_only_start("sbatch: Job 4 to start at 2026-11-29T18:02:00 using 1 processors on nodes vm in partition debug\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, *parse_slurm_time("2026-11-29T18:02:00"));
  EXPECT_EQ(*parse_slurm_time("2026-11-29T18:03:05") - *t, 65);
  EXPECT_FALSE(parse_test_only_start("sbatch: error: Requested node configuration is not available").has_value());
  EXPECT_FALSE(parse_slurm_time("N/A").has_value());
  auto q = parse_squeue("12|sdn-x|RUNNING|vm|gpu|2026-11-29T18:00:00|2026-11-29T18:01:00\n13|sdn-x|PENDING|(Dependency)|gpu|N/A|N/A\n");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1].reason, "(Dependency)");
  EXPECT_EQ(q[0].end, "2026-11-29T18:01:00");
}

TEST(SlurmRunDir, PlanRoundTripAndJobName) {
  RunPlan p;
  p.stage = "semantic";
  p.mode = "chain";
  p.job_name = "sdn-semantic-abc123";
  p.partition = "gpu";
  p.gpus = 8;
  p.nodes = 2;
  p.walltime_s = 48 * 3600;
  p.max_chunks = 5;
  RunPlan q = parse_plan_ini(IniDoc::parse(render_plan_ini(p), "plan.ini"));
  EXPECT_EQ(q.mode, "chain");
  EXPECT_EQ(q.gpus, 8);
  EXPECT_EQ(q.walltime_s, 48 * 3600);
  EXPECT_EQ(render_plan_ini(q), render_plan_ini(p));
  EXPECT_EQ(job_name_for("semantic", "/a/run"), job_name_for("semantic", "/a/run"));
  EXPECT_NE(job_name_for("semantic", "/a/run"), job_name_for("semantic", "/a/run2"));
  EXPECT_EQ(job_name_for("se m/x", "/a").rfind("sdn-se_m_x-", 0), 0u);
}

TEST(SlurmStatus, ShowsPhaseChunksEtaAndWhyItStopped) {
  StatusInputs in;
  in.run_dir = "/r";
  in.plan.total_steps = 100;
  in.plan.max_chunks = 4;
  auto events = submitted_with_one_chunk(0);
  events.push_back(ev("progress", 30, {{"step", 10}, {"total_steps", 100}, {"loss", 1.0}, {"images_per_s", 4.0}}));
  events.push_back(ev("progress", 40, {{"step", 30}, {"total_steps", 100}, {"loss", 0.5}, {"images_per_s", 4.0}}));
  in.state = summarize(events);
  in.queue = {{"7", "sdn-x", "RUNNING", "n1", "gpu", "", "2026-11-29T18:01:00"}};
  in.latest_step = 20;
  EXPECT_EQ(run_phase(in), "running");
  EXPECT_DOUBLE_EQ(recent_steps_per_s(in.state), 2.0);
  std::string text = render_status(in);
  EXPECT_NE(text.find("[#######.................] 30/100  30%"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA 00:00:35 of training"), std::string::npos) << text;
  EXPECT_NE(text.find("last loss 0.5000 at step 30"), std::string::npos) << text;
  in.queue.clear();
  EXPECT_EQ(run_phase(in), "stalled");
  events.push_back(ev("run_end", 50, {{"reason", "no_progress"}, {"message", "no checkpoint was written"}}));
  in.state = summarize(events);
  text = render_status(in);
  EXPECT_EQ(run_phase(in), "stopped");
  EXPECT_NE(text.find("state: stopped (no_progress)\n    why: no checkpoint was written"), std::string::npos) << text;
  EXPECT_EQ(render_status_line(in), "stopped step 30/100 30% ETA - job -");
}

TEST(SlurmStatus, OneLineSummaryHasPhaseProgressEtaAndTheCurrentJob) {
  StatusInputs in;
  in.plan.total_steps = 100;
  auto events = submitted_with_one_chunk(0);
  events.push_back(ev("progress", 30, {{"step", 10}, {"total_steps", 100}, {"loss", 1.0}}));
  events.push_back(ev("progress", 40, {{"step", 30}, {"total_steps", 100}, {"loss", 0.5}}));
  in.state = summarize(events);
  in.queue = {{"8", "sdn-x", "PENDING", "Dependency", "gpu", "", ""}, {"7", "sdn-x", "RUNNING", "n1", "gpu", "", ""}};
  EXPECT_EQ(render_status_line(in), "running step 30/100 30% ETA 00:00:35 job 7 RUNNING");
  in.queue = {{"8", "sdn-x", "PENDING", "Dependency", "gpu", "", ""}};
  EXPECT_EQ(render_status_line(in), "pending step 30/100 30% ETA 00:00:35 job 8 PENDING (Dependency)");
}

TEST(SlurmRunState, ReshapingSuccessorsShareTheSubmissionsBudget) {
  auto events = submitted_with_one_chunk(0);
  events.push_back(ev("chunk_end", 30, {{"exit_code", 3}, {"step", 50}, {"action", "continue"}}));
  events.push_back(ev("submit", 31, {{"mode", "chain"}, {"job_ids", {"8"}}, {"after", "7"}}));
  events.push_back(ev("chunk_start", 40, {{"job_id", "8"}, {"step", 50}}));
  auto s = summarize(events);
  EXPECT_EQ(s.chunks_since_submit, 2);
  EXPECT_DOUBLE_EQ(s.submit_time, 10);
  EXPECT_EQ(s.job_ids, (std::vector<std::string>{"7", "8"}));
  EXPECT_EQ(decide_chunk_start(s, 2, 60).reason, "max_chunks");  // job 8 made progress, but the budget is 2
}

TEST(SlurmChainReport, ComparesChunksWithTheUninterruptedRun) {
  // Two chunks of one requeued job: 0 -> 50 in 40 s, 50 -> 100 in 45 s; the second one reported step 100 only.
  std::vector<journal::Event> chained = {
      ev("submit", 0, {{"mode", "requeue"}, {"job_ids", {"7"}}}),
      ev("chunk_start", 10, {{"job_id", "7"}, {"step", 0}}),
      ev("progress", 30, {{"step", 52}, {"total_steps", 100}}),  // two steps past the stop checkpoint: lost
      ev("chunk_end", 50, {{"exit_code", 3}, {"step", 50}, {"action", "continue"}}),
      ev("chunk_start", 200, {{"job_id", "7"}, {"restart", 1}, {"step", 50}}),
      ev("progress", 240, {{"step", 100}, {"total_steps", 100}}),
      ev("chunk_end", 245, {{"exit_code", 0}, {"step", 100}, {"action", "done"}}),
      ev("run_end", 245, {{"reason", "complete"}})};
  std::vector<journal::Event> reference = {
      ev("train_end", 80, {{"reason", "complete"}, {"step", 100}, {"wall_seconds", 60.0}, {"process_seconds", 68.0}})};
  auto r = chain_report(summarize(chained), summarize(reference), "run", "ref");
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_DOUBLE_EQ(r.chained_s, 85);
  EXPECT_DOUBLE_EQ(r.span_s, 235);
  EXPECT_DOUBLE_EQ(r.ratio, 85.0 / 68.0);
  EXPECT_EQ(r.chunks[0].steps_lost, 2);
  EXPECT_EQ(r.chunks[1].steps_lost, 0);
  EXPECT_EQ(r.steps_lost, 2);
  EXPECT_DOUBLE_EQ(r.chunks[0].overhead_s, 40 - 50 * 0.6);
  EXPECT_DOUBLE_EQ(r.overhead_per_chunk_s, ((40 - 30) + (45 - 30)) / 2.0);
  EXPECT_NE(format_chain_report(r).find("ratio 1.250"), std::string::npos) << format_chain_report(r);

  // Refusals: an unfinished chunked run, a reference of other length, a reference without timings.
  auto unfinished = chained;
  unfinished.pop_back();
  EXPECT_THROW(chain_report(summarize(unfinished), summarize(reference), "run", "ref"), sdn::Error);
  auto other = reference;
  other[0]["step"] = 90;
  EXPECT_THROW(chain_report(summarize(chained), summarize(other), "run", "ref"), sdn::Error);
  auto untimed = reference;
  untimed[0].erase("process_seconds");
  EXPECT_THROW(chain_report(summarize(chained), summarize(untimed), "run", "ref"), sdn::Error);
}

// Slurm requeued the job itself (preemption): the next start of the same job with a higher restart count and no
// chunk_end of ours resumes, even without progress; another job in the same situation is still a no-progress stop.
TEST(SlurmGuards, RequeuedBySlurmResumes) {
  const RunState s = summarize(submitted_with_one_chunk(0));
  EXPECT_TRUE(requeued_by_slurm(s, "7", 1));
  EXPECT_FALSE(requeued_by_slurm(s, "7", 0));
  EXPECT_FALSE(requeued_by_slurm(s, "8", 1));
  Decision d = decide_chunk_start(s, 5, 0, "7", 1);
  EXPECT_EQ(d.action, "run");
  EXPECT_EQ(d.reason, "requeued");
  EXPECT_NE(d.message.find("requeued by Slurm"), std::string::npos) << d.message;
  EXPECT_EQ(decide_chunk_start(s, 5, 0, "8", 0).reason, "no_progress");
  EXPECT_EQ(decide_chunk_start(s, 5, 0).reason, "no_progress");
  // The chunk budget still bounds a job Slurm keeps requeueing.
  EXPECT_EQ(decide_chunk_start(s, 1, 0, "7", 1).reason, "max_chunks");
}

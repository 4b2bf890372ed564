// `sdn submit|status|cancel RUN_DIR` and `sdn journal ...` (the job scripts' bookkeeping, so that formatting
// and the loop guards live in C++): wiring between the run directory, the journal and Slurm's commands.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_jobs.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/follow_output.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"
#include "core/options.hpp"
#include "core/parse.hpp"
#include "slurm/plot_writer.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/run_state.hpp"
#include "slurm/scheduler.hpp"
#include "slurm/status_view.hpp"

namespace sdn::cli {
namespace {

using namespace sdn::slurm;

struct RunConfig {
  std::string run_dir;
  bool plot = false;
  bool follow = false;
  double interval = 10;
  std::string after;
};

opt::Schema<RunConfig> run_schema(const std::string& name, const std::string& summary) {
  opt::Schema<RunConfig> s(name, summary);
  s.add("run-dir", "the run directory written by `sdn plan`", [](RunConfig& c) -> auto& { return c.run_dir; })
      .positional("run-dir");
  if (name == "submit")
    s.add("after", "reshaping chains (what their jobs run): re-plan the rest of the run with --probe and queue the "
                   "next job after this job id", [](RunConfig& c) -> auto& { return c.after; });
  if (name == "status")
    s.add("plot", "draw RUN/plots/loss.{svg,png} and RUN/plots/timeline.{svg,png} with gnuplot",
          [](RunConfig& c) -> auto& { return c.plot; })
        .add("follow", "keep showing the run until it completes or stops (exit 0 only if complete): redrawn in "
                       "place on a terminal, one line per change when piped",
             [](RunConfig& c) -> auto& { return c.follow; })
        .add("interval", "seconds between redraws with --follow", [](RunConfig& c) -> auto& { return c.interval; },
             opt::Range{0.2, 3600});
  return s;
}

std::vector<std::string> need_run_dir(const RunConfig& c) {
  if (c.run_dir.empty()) return {"run-dir: required (the directory written by `sdn plan`)"};
  return {};
}

std::optional<RunConfig> parse_run(const std::string& name, const std::string& summary, const Args& args) {
  auto parsed = parse_command(run_schema(name, summary), args, need_run_dir);
  if (parsed) parsed->run_dir = absolute_path(parsed->run_dir);
  return parsed;
}

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

RunState load_state(const std::string& run_dir) {
  auto read = journal::read(journal::path_in(run_dir));
  for (const auto& p : read.problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  return summarize(read.events);
}

// The successor must see its own job's SLURM_* variables, not this job's: srun in the next job would read any
// it does not set again (a GPU binding of this shape, say). SLURM_CONF names the cluster and stays.
void forget_this_jobs_slurm_environment() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const std::string name = kv.substr(0, kv.find('='));
    if (name.rfind("SLURM_", 0) == 0 && name != "SLURM_CONF") names.push_back(name);
  }
  for (const auto& n : names) ::unsetenv(n.c_str());
}

// A reshaping chain's job that continues: re-plan what is left (the shape that finishes first now, as the
// scheduler answers), rewrite the job script, and queue it after `after`. The successor is journaled as part of
// the same submission, so it shares the chunk budget.
int submit_successor(const std::string& run_dir, const RunPlan& plan, const std::string& after) {
  if (!plan.reshape)
    throw UsageError(run_dir + " was not planned with --reshape; --after is for reshaping chains",
                     "plan it with `sdn plan --mode chain --reshape ...`");
  const std::string args_file = run_dir + "/jobs/replan.args";
  Args replan = parse::split(fs::read_file(args_file), '\n');
  const std::int64_t done = latest_checkpoint_step(run_dir);
  forget_this_jobs_slurm_environment();
  for (const std::string& a : {std::string("--stage"), run_dir + "/run.ini", std::string("--run-dir"), run_dir,
                               std::string("--probe"), std::string("--done-steps"), std::to_string(done)})
    replan.push_back(a);
  std::printf("re-planning the rest of %s from step %lld (options from %s)\n", run_dir.c_str(),
              static_cast<long long>(done), args_file.c_str());
  if (int rc = run_plan(replan); rc != kExitOk) return rc;
  const RunPlan next = load_run_plan(run_dir);
  const std::string id = sbatch_submit(run_dir + "/" + next.script, {"--dependency=afterany:" + after});
  auto e = journal::make(journal::kind::kSubmit);
  e["mode"] = next.mode;
  e["job_ids"] = {id};
  e["after"] = after;
  e["partition"] = next.partition;
  e["gpus"] = next.gpus;
  journal::append(journal::path_in(run_dir), e);
  std::printf("queued job %s (%s x %d GPUs) after job %s\n", id.c_str(), next.partition.c_str(), next.gpus,
              after.c_str());
  return kExitOk;
}

}  // namespace

int run_submit(const Args& args) {
  auto parsed = parse_run("submit", "Submit a planned run: one self-requeueing job (mode requeue) or a chain of "
                                    "jobs linked with --dependency=afterany (mode chain).", args);
  if (!parsed) return kExitOk;
  const RunConfig& cfg = *parsed;
  RunPlan plan = load_run_plan(cfg.run_dir);
  RunState state = load_state(cfg.run_dir);
  if (state.complete) {
    std::printf("run %s is already complete; nothing to submit\n", cfg.run_dir.c_str());
    return kExitOk;
  }
  if (!cfg.after.empty()) return submit_successor(cfg.run_dir, plan, cfg.after);
  auto live = squeue_by_name(plan.job_name);
  if (!live.empty()) {
    std::vector<std::string> ids;
    for (const auto& q : live) ids.push_back(q.job_id + " (" + q.state + ")");
    throw UsageError("run " + cfg.run_dir + " already has jobs in the queue: " + parse::join(ids, ", "),
                     "follow it with `sdn status " + cfg.run_dir + "`, or `sdn cancel` it first");
  }
  const std::vector<std::string> ids = submit_run_jobs(cfg.run_dir, plan, {});
  std::printf("submitted %s (%s mode): job%s %s\n  follow: sdn status %s\n", cfg.run_dir.c_str(), plan.mode.c_str(),
              ids.size() > 1 ? "s" : "", parse::join(ids, " -> ").c_str(), cfg.run_dir.c_str());
  return kExitOk;
}

int run_status(const Args& args) {
  auto parsed = parse_run("status", "Show a run: progress, current job and state, per-chunk history, images/s, "
                                    "ETA, last loss, and why it stopped.", args);
  if (!parsed) return kExitOk;
  const RunConfig& cfg = *parsed;
  const bool tty = stdout_is_terminal();
  FollowOutput out(tty, terminal_columns());
  while (true) {
    StatusInputs in;
    in.run_dir = cfg.run_dir;
    in.plan = load_run_plan(cfg.run_dir);
    in.state = load_state(cfg.run_dir);
    in.now = static_cast<double>(std::time(nullptr));
    try {
      in.latest_step = latest_checkpoint_step(cfg.run_dir);
    } catch (const Error& e) {
      std::fprintf(stderr, "warning: %s\n", e.message().c_str());
    }
    std::string queue_problem;
    try {
      in.queue = squeue_by_name(in.plan.job_name);
    } catch (const Error& e) {
      queue_problem = e.message();
    }
    std::string text = render_status(in);
    if (!queue_problem.empty()) text += "  (queue unknown: " + queue_problem + ")\n";
    if (cfg.plot) {
      const PlotFiles f = write_plots({{in.plan.stage, in.state, cfg.run_dir + "/logs/metrics.tsv"}},
                                      cfg.run_dir + "/plots", in.now);
      text += "  plots: " + f.loss_svg + " (.png), " + f.timeline_svg + " (.png)\n";
    }
    const std::string phase = run_phase(in);
    const bool last = !cfg.follow || (phase != "running" && phase != "pending");
    if (!cfg.follow) {
      std::fputs(text.c_str(), stdout);
    } else {
      std::string summary = render_status_line(in);
      if (!queue_problem.empty()) summary += " (queue unknown)";
      if (tty && !last) text += "  (following every " + fmt_seconds(cfg.interval) + " s, updated " + clock_now() +
                                "; Ctrl-C stops following, not the run)\n";
      std::fputs(out.update(text, summary, clock_now()).c_str(), stdout);
      if (last && !tty) std::fputs(text.c_str(), stdout);  // a log ends with the whole story (why it stopped)
    }
    if (last) return phase == "complete" || !cfg.follow ? kExitOk : kExitFailure;
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg.interval));
  }
}

int run_cancel(const Args& args) {
  auto parsed = parse_run("cancel", "Cancel a run's jobs. The trainer gets SIGTERM, saves a checkpoint and the job "
                                    "records the stop; `sdn submit` resumes later.", args);
  if (!parsed) return kExitOk;
  const RunConfig& cfg = *parsed;
  const std::vector<std::string> ids = cancel_run_jobs(cfg.run_dir, load_run_plan(cfg.run_dir));
  std::printf("cancelled %s: %s\n", cfg.run_dir.c_str(), ids.empty() ? "no jobs were queued" : parse::join(ids, " ").c_str());
  return kExitOk;
}

}  // namespace sdn::cli

// `sdn pipeline plan|submit|status|cancel|gate|estimate`: the whole 3D-SDN as one job graph. plan writes one run
// directory per stage (through `sdn plan`, with the gate in its job script) and each stage's prediction job; submit
// queues every node that is not done, after the jobs of the nodes it reads from; gate is what those jobs run first.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/pipeline_ops.hpp"
#include "cli/run_jobs.hpp"
#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/follow_output.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"
#include "core/options.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/pipeline_estimate.hpp"
#include "slurm/plan.hpp"
#include "slurm/plot_writer.hpp"
#include "slurm/run_setup.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::cli {
namespace {

using namespace sdn::slurm;

struct PipelineConfig {
  std::string action;
  std::string dir;
  std::string config;
  std::string cluster;
  std::string account;
  bool force = false;
  bool markdown = false;
  bool follow = false;
  bool plot = false;
  double interval = 10;
  std::string node;
  std::string job_id;
};

opt::Schema<PipelineConfig> pipeline_schema() {
  opt::Schema<PipelineConfig> s(
      "pipeline", "The whole 3D-SDN as one resumable job graph on Slurm (configs/pipeline.ini, docs/pipeline.md).\n"
                  "  plan DIR --spec FILE     plan every stage into DIR/<stage> and write the prediction jobs\n"
                  "  submit DIR               queue every node that is not done, after the nodes it reads from\n"
                  "  status DIR               per node: state, progress, ETA, jobs; the pipeline's ETA and SUs\n"
                  "  cancel DIR               cancel every queued or running job (submit resumes)\n"
                  "  estimate --spec FILE     the running-time table (throughput source, steps, wall, jobs, SUs)\n"
                  "  gate DIR --node ID       what each pipeline job runs first (prints run|wait|stop)");
  s.add("action", "plan | submit | status | cancel | estimate | gate", [](PipelineConfig& c) -> auto& { return c.action; },
        opt::Choices{"plan", "submit", "status", "cancel", "estimate", "gate"})
      .positional("action")
      .add("dir", "the pipeline directory", [](PipelineConfig& c) -> auto& { return c.dir; })
      .positional("dir")
      .add("spec", "plan, estimate: the pipeline config (configs/pipeline.ini)",
           [](PipelineConfig& c) -> auto& { return c.config; })
      .add("cluster", "plan, estimate: cluster profile (default: [pipeline] cluster)",
           [](PipelineConfig& c) -> auto& { return c.cluster; })
      .add("account", "plan, estimate: charge jobs to this account", [](PipelineConfig& c) -> auto& { return c.account; })
      .add("force", "plan: re-plan stage runs whose config changed", [](PipelineConfig& c) -> auto& { return c.force; })
      .add("markdown", "estimate: print the table as Markdown", [](PipelineConfig& c) -> auto& { return c.markdown; })
      .add("plot", "status: write DIR/plots/loss.{svg,png} (per stage) and timeline.{svg,png} (jobs per stage)",
           [](PipelineConfig& c) -> auto& { return c.plot; })
      .add("follow", "status: redraw until the pipeline completes (exit 0) or stops (exit 1); piped: a line per change",
           [](PipelineConfig& c) -> auto& { return c.follow; })
      .add("interval", "status --follow: seconds between redraws", [](PipelineConfig& c) -> auto& { return c.interval; },
           opt::Range{0.2, 3600})
      .add("node", "gate: the node whose job asks", [](PipelineConfig& c) -> auto& { return c.node; })
      .add("job-id", "gate: the asking job ($SLURM_JOB_ID)", [](PipelineConfig& c) -> auto& { return c.job_id; });
  return s;
}

std::vector<std::string> validate(const PipelineConfig& c) {
  std::vector<std::string> e;
  const bool needs_dir = c.action != "estimate";
  if (needs_dir && c.dir.empty()) e.push_back("dir: required for `sdn pipeline " + c.action + "`");
  if ((c.action == "plan" || c.action == "estimate") && c.config.empty())
    e.push_back("spec: required for `sdn pipeline " + c.action + "` (e.g. --spec configs/pipeline.ini)");
  if (c.action == "gate" && c.node.empty()) e.push_back("node: required for `sdn pipeline gate`");
  return e;
}

double now_s() { return static_cast<double>(std::time(nullptr)); }

// The `sdn plan` arguments of one stage (without --run-dir).
Args plan_args(const PipelineSpec& spec, const PipelineStage& s, const std::string& stage_ini, const std::string& cluster,
               const std::string& account) {
  Args a = {"--stage", stage_ini, "--name", s.name, "--cluster", cluster, "--mode", s.mode.empty() ? spec.mode : s.mode};
  auto add = [&](const char* key, const std::string& v) {
    if (!v.empty()) a.insert(a.end(), {key, v});
  };
  std::vector<std::string> gpus;
  for (int g : s.gpus) gpus.push_back(std::to_string(g));
  add("--partition", s.partition);
  add("--gpus", parse::join(gpus, ","));
  add("--walltime", s.walltime.empty() ? spec.walltime : s.walltime);
  add("--account", account.empty() ? spec.account : account);
  add("--throughput", s.throughput);
  if (s.images_per_s > 0) add("--images-per-s", parse::format_value(s.images_per_s));
  if (s.steps > 0) add("--steps", std::to_string(s.steps));
  if (s.max_chunks > 0) add("--max-chunks", std::to_string(s.max_chunks));
  add("--scale-recipe", s.scale_recipe);
  add("--sdn-command", spec.sdn_command);
  add("--train-command", s.train_command.empty() ? spec.train_command : s.train_command);
  return a;
}

// The prediction job's shape: one GPU of the stage's partition (or predict_partition) for its time limit.
Candidate predict_shape(const ClusterProfile& cluster, const PipelineStage& s, const RunPlan& plan) {
  Candidate c;
  c.shape.partition = s.predict_partition.empty() ? plan.partition : s.predict_partition;
  const Partition* p = cluster.find(c.shape.partition);
  if (!p)
    throw UsageError("[stage." + s.name + "] predict_partition '" + c.shape.partition + "' is not a partition of " +
                     cluster.origin, "choose one of the profile's [partition.NAME] sections");
  c.shape.walltime_s = std::min(s.predict_walltime_s, p->max_walltime_s);
  c.grace_s = 30;
  return c;
}

void write_predict_job(const std::string& dir, const PipelineSpec& spec, const PipelineStage& s, const ClusterProfile& cl) {
  const std::string run = stage_run_dir(dir, s.name);
  const RunPlan plan = load_run_plan(run);
  JobChoices ch;
  ch.run_dir = run;
  ch.job_name = predict_job_name(plan);
  ch.sdn_command = resolve_sdn_command(spec.sdn_command, cl);
  ch.stage = s.name;
  ch.pipeline_dir = dir;
  ch.pipeline_node = s.name + ".predict";
  JobSpec job = make_job_spec(cl, predict_shape(cl, s, plan), ch);
  job.predict_command = spec.predict_command;
  job.summary = "predictions of stage " + s.name + " for split(s) " + parse::join(s.predict_splits, ",");
  if (auto problems = validate_job_spec(job); !problems.empty())
    throw UsageError("cannot write the prediction job of " + s.name + ": " + parse::join(problems, "; "), "see `sdn plan --help`");
  const std::string script = run + "/jobs/predict.sbatch";
  fs::write_atomic(script, render_predict_sbatch(job, s.predict_splits, stage_predict_dir(dir, s.name)));
  std::filesystem::permissions(script, std::filesystem::perms::owner_exec, std::filesystem::perm_options::add);
}

// Rows of the running-time table from each stage's plan (as `sdn plan` chose it) and its prediction job.
std::vector<EstimateRow> estimate_rows(const PipelineSpec& spec, const ClusterProfile& cluster,
                                       const std::map<std::string, PlannedStage>& planned) {
  std::vector<EstimateRow> rows;
  for (const auto& node : pipeline_graph(spec)) {
    const PipelineStage& s = *spec.find(node.stage);
    const PlannedStage& ps = planned.at(node.stage);
    EstimateRow r;
    r.node = node.id;
    r.branch = s.branch;
    if (!node.predict) {
      r.source = s.images_per_s > 0 ? "stated: " + (s.estimate_note.empty() ? parse::format_value(s.images_per_s) +
                                                                                  " images/s per GPU"
                                                                            : s.estimate_note)
                                    : ps.source;
      r.steps = ps.plan.total_steps;
      r.shape = ps.plan.partition + " x " + std::to_string(ps.plan.gpus) + ", " +
                parse::format_walltime(ps.plan.walltime_s) + " jobs";
      r.wall_s = ps.plan.elapsed_s;
      r.jobs = ps.plan.chunks;
      r.service_units = ps.plan.service_units;
    } else {
      const Candidate c = predict_shape(cluster, s, ps.plan);
      const Partition& p = *cluster.find(c.shape.partition);
      r.wall_s = s.predict_estimate_s > 0 ? s.predict_estimate_s : c.shape.walltime_s;
      r.source = s.predict_estimate_s > 0 ? "stated: predict_estimate" : "its time limit (no predict_estimate)";
      r.shape = c.shape.partition + " x 1, " + parse::join(s.predict_splits, "+");
      r.jobs = 1;
      r.service_units = billed_gpus_for(p, c.shape) * p.charge_factor * static_cast<double>(r.wall_s) / 3600.0;
    }
    rows.push_back(r);
  }
  return rows;
}

int do_plan(const PipelineConfig& cfg) {
  PipelineSpec spec = load_pipeline(cfg.config);
  if (!cfg.cluster.empty()) spec.cluster = cfg.cluster;
  if (!cfg.account.empty()) spec.account = cfg.account;
  const ClusterProfile cluster = load_cluster_profile(spec.cluster);
  const std::string dir = absolute_path(cfg.dir);
  fs::ensure_writable_dir(dir);
  fs::ensure_writable_dir(dir + "/stages");
  PipelineSpec normalized = spec;
  std::map<std::string, PlannedStage> planned;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const PipelineStage& s = spec.stages[i];
    const std::string ini = dir + "/stages/" + s.name + ".ini";
    fs::write_atomic(ini, stage_config_text(fs::read_file(s.config), spec, s, dir));
    normalized.stages[i].config = ini;
    Args args = plan_args(spec, s, ini, spec.cluster, "");
    args.insert(args.end(), {"--run-dir", stage_run_dir(dir, s.name), "--pipeline", dir, "--node", s.name});
    if (cfg.force) args.push_back("--force");
    std::printf("== stage %s (%zu of %zu): %s\n", s.name.c_str(), i + 1, spec.stages.size(), s.config.c_str());
    std::fflush(stdout);
    if (int rc = run_plan(args); rc != kExitOk) return rc;
    if (!s.predict_splits.empty()) write_predict_job(dir, spec, s, cluster);
    planned[s.name] = PlannedStage{load_run_plan(stage_run_dir(dir, s.name)), "measured: " + s.throughput, {}};
    std::printf("\n");
  }
  fs::write_atomic(dir + "/pipeline.ini", render_pipeline(normalized));
  std::fputs(render_estimate("pipeline " + spec.name + " on " + cluster.name + " as planned", pipeline_graph(spec),
                             estimate_rows(spec, cluster, planned), false).c_str(), stdout);
  std::printf("\npipeline directory %s written\n  submit: sdn pipeline submit %s\n  follow: sdn pipeline status %s --follow\n",
              dir.c_str(), dir.c_str(), dir.c_str());
  return kExitOk;
}

int do_estimate(const PipelineConfig& cfg) {
  PipelineSpec spec = load_pipeline(cfg.config);
  if (!cfg.cluster.empty()) spec.cluster = cfg.cluster;
  const ClusterProfile cluster = load_cluster_profile(spec.cluster);
  // The stage configs with their `set.` values go to a scratch directory only `sdn plan` reads; nothing else is written.
  char tmpl[] = "/tmp/sdn-estimate-XXXXXX";
  if (!::mkdtemp(tmpl)) throw Error("cannot create a scratch directory under /tmp", "check that /tmp is writable");
  const std::string tmp = tmpl;
  std::map<std::string, PlannedStage> planned;
  try {
    for (const auto& s : spec.stages) {
      const std::string ini = tmp + "/" + s.name + ".ini";
      fs::write_atomic(ini, stage_config_text(fs::read_file(s.config), spec, s, tmp));
      Args args = plan_args(spec, s, ini, spec.cluster, cfg.account);
      args.push_back("--dry-run");
      planned[s.name] = plan_estimate(args);
    }
  } catch (...) {
    std::filesystem::remove_all(tmp);
    throw;
  }
  std::filesystem::remove_all(tmp);
  std::fputs(render_estimate("pipeline " + spec.name + " (" + cfg.config + ") on " + cluster.name, pipeline_graph(spec),
                             estimate_rows(spec, cluster, planned), cfg.markdown).c_str(), stdout);
  return kExitOk;
}

int do_submit(const PipelineConfig& cfg) {
  const PipelineDir p = open_pipeline(cfg.dir);
  const auto nodes = gather_nodes(p, now_s());
  std::map<std::string, std::vector<std::string>> jobs;  // per node: the jobs its dependents wait for
  std::map<std::string, bool> done;
  int queued = 0;
  for (std::size_t i = 0; i < p.graph.size(); ++i) {
    const auto& node = p.graph[i];
    const auto& st = nodes[i];
    done[node.id] = st.phase == "complete";
    if (done[node.id]) {
      std::printf("  %-24s complete\n", node.id.c_str());
      continue;
    }
    if (phase_is_live(st.phase)) {
      jobs[node.id] = st.live_jobs;
      std::printf("  %-24s already queued: %s\n", node.id.c_str(), parse::join(st.live_jobs, " ").c_str());
      continue;
    }
    std::vector<std::string> after;
    for (const auto& d : node.deps)
      if (!done[d]) after.insert(after.end(), jobs[d].begin(), jobs[d].end());
    jobs[node.id] = submit_node(p, node, after);
    ++queued;
    std::printf("  %-24s job%s %s%s\n", node.id.c_str(), jobs[node.id].size() > 1 ? "s" : "",
                parse::join(jobs[node.id], " -> ").c_str(), after.empty() ? "" : (" after " + parse::join(after, ",")).c_str());
  }
  std::printf("pipeline %s: %d node(s) queued\n  follow: sdn pipeline status %s --follow\n", p.dir.c_str(), queued,
              p.dir.c_str());
  return kExitOk;
}

int do_cancel(const PipelineConfig& cfg) {
  const PipelineDir p = open_pipeline(cfg.dir);
  // Dependents first: cancelling a producer first would release their afterany dependencies, and they would start
  // only to find it cancelled.
  int n = 0;
  for (auto it = p.graph.rbegin(); it != p.graph.rend(); ++it) {
    const auto ids = cancel_node(p, *it);
    if (ids.empty()) continue;
    ++n;
    std::printf("  %-24s cancelled %s\n", it->id.c_str(), parse::join(ids, " ").c_str());
  }
  std::printf("pipeline %s: %s\n", p.dir.c_str(), n ? "cancelled; `sdn pipeline submit` resumes from what is done"
                                                    : "no jobs were queued");
  return kExitOk;
}

// Loss per stage and the job timeline of every stage (DIR/plots/), from each stage run's journal and metrics.
std::string write_pipeline_plots(const PipelineDir& p, double now) {
  std::vector<StagePlot> stages;
  for (const auto& s : p.spec.stages) {
    const std::string run = stage_run_dir(p.dir, s.name);
    stages.push_back({s.name, summarize(journal::read(journal::path_in(run)).events), run + "/logs/metrics.tsv"});
  }
  const PlotFiles f = write_plots(stages, p.dir + "/plots", now);
  return "  plots: " + f.loss_svg + " (.png), " + f.timeline_svg + " (.png)\n";
}

int do_status(const PipelineConfig& cfg) {
  const PipelineDir p = open_pipeline(cfg.dir);
  const bool tty = stdout_is_terminal();
  FollowOutput out(tty, terminal_columns());
  while (true) {
    const double now = now_s();
    std::string queue_problem;
    const auto nodes = gather_nodes(p, now, &queue_problem);
    std::string text = render_pipeline_status(p.spec, p.dir, p.graph, nodes, now);
    if (!queue_problem.empty()) text += "  (queue unknown: " + queue_problem + ")\n";
    if (cfg.plot) text += write_pipeline_plots(p, now);
    const std::string phase = pipeline_phase(nodes);
    const bool last = !cfg.follow || (phase != "running" && phase != "pending");
    if (!cfg.follow) {
      std::fputs(text.c_str(), stdout);
    } else {
      std::string summary = render_pipeline_line(nodes, now, p.graph);
      if (!queue_problem.empty()) summary += " (queue unknown)";
      if (tty && !last) text += "  (following; updated " + clock_now() + "; Ctrl-C stops following, not the pipeline)\n";
      std::fputs(out.update(text, summary, clock_now()).c_str(), stdout);
      if (last && !tty) std::fputs(text.c_str(), stdout);  // a log ends with the whole graph (why it stopped)
    }
    if (last) return phase == "complete" || !cfg.follow ? kExitOk : kExitFailure;
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(cfg.interval));
  }
}

int do_gate(const PipelineConfig& cfg) {
  const PipelineDir p = open_pipeline(cfg.dir);
  const GraphNode& node = find_node(p, cfg.node);
  std::vector<NodeStatus> deps;
  const double now = now_s();
  for (const auto& d : node.deps) deps.push_back(gather_node(p, find_node(p, d), now));
  const GateDecision g = decide_gate(deps);
  if (g.action == "wait") {
    // A chain's queued successors would each pass this gate in turn: they go, and the whole node is queued again.
    if (!node.predict) {
      const RunPlan plan = load_run_plan(stage_run_dir(p.dir, node.stage));
      std::vector<std::string> pending;
      for (const auto& q : squeue_by_name(plan.job_name))
        if (q.job_id != cfg.job_id && q.state == "PENDING") pending.push_back(q.job_id);
      scancel_jobs(pending);
    }
    const auto ids = submit_node(p, node, g.wait_for);
    std::fprintf(stderr, "sdn pipeline gate: %s: %s; queued again as job %s\n", node.id.c_str(), g.message.c_str(),
                 parse::join(ids, " ").c_str());
  } else if (g.action == "stop") {
    record_upstream_stop(p, node, g.message);
    std::fprintf(stderr, "sdn pipeline gate: %s does not start: %s\n", node.id.c_str(), g.message.c_str());
  }
  std::printf("%s\n", g.action.c_str());
  return kExitOk;
}

}  // namespace

int run_pipeline(const Args& args) {
  auto parsed = parse_command(pipeline_schema(), args, validate);
  if (!parsed) return kExitOk;
  const PipelineConfig& cfg = *parsed;
  if (cfg.action == "plan") return do_plan(cfg);
  if (cfg.action == "estimate") return do_estimate(cfg);
  if (cfg.action == "submit") return do_submit(cfg);
  if (cfg.action == "cancel") return do_cancel(cfg);
  if (cfg.action == "gate") return do_gate(cfg);
  return do_status(cfg);
}

}  // namespace sdn::cli

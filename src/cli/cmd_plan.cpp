// `sdn plan`: stage config + cluster profile + measured throughput -> candidate job shapes (optionally probed
// with `sbatch --test-only`), the chosen one's job script, and a run directory. Nothing outside RUN is written.
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_jobs.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"
#include "core/options.hpp"
#include "slurm/galyleo.hpp"
#include "slurm/job_script.hpp"
#include "slurm/plan.hpp"
#include "slurm/plan_probe.hpp"
#include "slurm/rank_cpus.hpp"
#include "slurm/run_setup.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/scheduler.hpp"
#include "slurm/throughput.hpp"

namespace sdn::cli {
namespace {

using namespace sdn::slurm;

struct PlanConfig {
  std::string stage;
  std::string name;
  std::string cluster = "local";
  std::string run_dir;
  std::string mode = "requeue";
  double it_per_s = 0;
  double images_per_s = 0;
  std::string throughput;
  std::string scaling = "1:1,2:0.95,4:0.9,8:0.85,16:0.8";
  double ckpt_seconds = 0;
  std::vector<std::string> partitions;
  std::vector<int> gpus;
  std::string walltime;
  std::string account;
  bool probe = false;
  bool galyleo = false;
  bool dry_run = false;
  bool force = false;
  bool reshape = false;
  bool ignore_queue = false;
  std::int64_t done_steps = 0;
  int max_chunks = 0;
  int chain_jobs = 0;
  std::int64_t steps = 0;
  int global_batch = 0;
  int batch_per_rank = 0;
  std::string train_command;
  std::string sdn_command;
  std::string scale_recipe = "none";
  std::string pipeline_dir;
  std::string pipeline_node;
};

opt::Schema<PlanConfig> plan_schema() {
  opt::Schema<PlanConfig> s("plan", "Plan a training stage on a Slurm cluster: candidate job shapes (partition x GPUs x "
                                    "time limit) with chunks, wall time, service units and expected finish; writes "
                                    "the run directory (run.ini, jobs/, ckpt/, logs/, journal.jsonl) for the best one.");
  s.add("stage", "stage config INI = the trainer config (reads [train] epochs, iterations_per_epoch, global_batch, per_rank_batch)",
        [](PlanConfig& c) -> auto& { return c.stage; })
      .add("name", "run name in job names and `sdn status` (default: the stage file's name without .ini)",
           [](PlanConfig& c) -> auto& { return c.name; })
      .add("cluster", "cluster profile: a name in configs/clusters/ or a path", [](PlanConfig& c) -> auto& { return c.cluster; })
      .add("run-dir", "run directory to create (absolute paths are written into the job script)",
           [](PlanConfig& c) -> auto& { return c.run_dir; })
      .add("mode", "requeue: the job requeues itself; chain: jobs queued with --dependency=afterany",
           [](PlanConfig& c) -> auto& { return c.mode; }, opt::Choices{"requeue", "chain"})
      .add("it-per-s", "measured training steps per second on ONE GPU at batch_per_rank",
           [](PlanConfig& c) -> auto& { return c.it_per_s; }, opt::Range{0, 1e9})
      .add("images-per-s", "measured images per second on ONE GPU", [](PlanConfig& c) -> auto& { return c.images_per_s; },
           opt::Range{0, 1e9})
      .add("throughput", "a run's journal.jsonl or a `sdn bench step` JSON result to take the throughput from",
           [](PlanConfig& c) -> auto& { return c.throughput; })
      .add("scaling", "parallel efficiency per GPU count, GPUS:EFF,...", [](PlanConfig& c) -> auto& { return c.scaling; })
      .add("ckpt-seconds", "measured checkpoint save time (0: from --throughput, else 30)",
           [](PlanConfig& c) -> auto& { return c.ckpt_seconds; }, opt::Range{0, 36000})
      .add("partition", "only these partitions (comma list)", [](PlanConfig& c) -> auto& { return c.partitions; })
      .add("gpus", "only these GPU counts (comma list)", [](PlanConfig& c) -> auto& { return c.gpus; })
      .add("walltime", "job time limit (default: each partition's maximum), e.g. 12:00:00 or 2m",
           [](PlanConfig& c) -> auto& { return c.walltime; })
      .add("account", "charge jobs to this account (overrides the profile)", [](PlanConfig& c) -> auto& { return c.account; })
      .add("probe", "ask the scheduler (sbatch --test-only) when each shape would start; pick the earliest finish",
           [](PlanConfig& c) -> auto& { return c.probe; })
      .add("galyleo", "also print the galyleo command for a notebook on the chosen partition",
           [](PlanConfig& c) -> auto& { return c.galyleo; })
      .add("dry-run", "print the table (and galyleo command) only; write nothing", [](PlanConfig& c) -> auto& { return c.dry_run; })
      .add("ignore-queue", "do not count your jobs already in the queue (squeue --me) against the per-user limits",
           [](PlanConfig& c) -> auto& { return c.ignore_queue; })
      .add("force", "re-plan a run dir whose run.ini differs from --stage", [](PlanConfig& c) -> auto& { return c.force; })
      .add("max-chunks", "loop guard: chunks per submission (0: planned chunks + slack)",
           [](PlanConfig& c) -> auto& { return c.max_chunks; }, opt::Range{0, 100000})
      .add("chain-jobs", "chain mode: jobs queued at once (0: planned chunks + 1, at most max-chunks)",
           [](PlanConfig& c) -> auto& { return c.chain_jobs; }, opt::Range{0, 1000})
      .add("reshape", "chain mode: queue one job at a time; each job that continues re-plans the rest (--probe) and "
           "queues its successor in the shape that finishes first (elastic resume changes the GPU count)",
           [](PlanConfig& c) -> auto& { return c.reshape; })
      .add("done-steps", "steps already trained: plan only the rest (what reshaping jobs pass)",
           [](PlanConfig& c) -> auto& { return c.done_steps; }, opt::Range{0, 1e15})
      .add("steps", "override the stage's total steps", [](PlanConfig& c) -> auto& { return c.steps; }, opt::Range{0, 1e15})
      .add("global-batch", "override the stage's global batch", [](PlanConfig& c) -> auto& { return c.global_batch; },
           opt::Range{0, 1e9})
      .add("batch-per-rank", "override the stage's batch per rank", [](PlanConfig& c) -> auto& { return c.batch_per_rank; },
           opt::Range{0, 1e9})
      .add("scale-recipe", "scale the recipe to each shape's GPUs: global batch = GPUs x batch_per_rank, lr by the "
           "linear rule (with warm-up) or sqrt, steps cut to the same images; written into run.ini (accuracy: see "
           "docs/expanse.md)", [](PlanConfig& c) -> auto& { return c.scale_recipe; }, opt::Choices{"none", "linear", "sqrt"})
      .add("train-command", "trainer command in the job (default: '<sdn> train'); it gets --config RUN/run.ini --run-dir RUN",
           [](PlanConfig& c) -> auto& { return c.train_command; })
      .add("sdn-command", "how jobs call sdn (default: the profile's sdn_command, else this executable)",
           [](PlanConfig& c) -> auto& { return c.sdn_command; })
      .add("pipeline", "set by `sdn pipeline plan`: the pipeline directory whose gate the job passes first",
           [](PlanConfig& c) -> auto& { return c.pipeline_dir; })
      .add("node", "set by `sdn pipeline plan`: this run's node in the pipeline graph",
           [](PlanConfig& c) -> auto& { return c.pipeline_node; });
  return s;
}

std::vector<std::string> validate(const PlanConfig& c) {
  std::vector<std::string> e;
  if (c.stage.empty()) e.push_back("stage: required (the stage config INI to plan)");
  if (c.run_dir.empty() && !c.dry_run) e.push_back("run-dir: required unless --dry-run");
  int sources = (c.it_per_s > 0) + (c.images_per_s > 0) + !c.throughput.empty();
  if (sources != 1) e.push_back("give exactly one throughput: --it-per-s, --images-per-s or --throughput FILE");
  Scaling s;
  if (auto err = parse_scaling(c.scaling, s); !err.empty()) e.push_back("scaling: " + err);
  if (c.reshape && c.mode != "chain") e.push_back("reshape: needs --mode chain (a requeued job keeps its shape)");
  if (c.pipeline_dir.empty() != c.pipeline_node.empty()) e.push_back("pipeline and node: give both or neither");
  for (const auto* v : {&c.train_command, &c.sdn_command})
    if (v->find('\n') != std::string::npos) e.push_back("train-command/sdn-command: one line only");
  std::int64_t w = 0;
  if (!c.walltime.empty())
    if (auto err = parse::parse_duration(c.walltime, w); !err.empty() || w < 60)
      e.push_back("walltime '" + c.walltime + "': " + (err.empty() ? "at least one minute" : err));
  return e;
}

// The options a reshaping chain's jobs re-plan with (`sdn submit --after`, one per line in RUN/jobs/replan.args):
// this plan's, with the throughput as the measured numbers and the profile as an absolute path, so a re-plan
// hours later does not depend on files that may have changed or on the working directory.
std::vector<std::string> replan_args(const PlanConfig& cfg, const ClusterProfile& cluster, const PlanInputs& in,
                                     int max_chunks) {
  std::vector<std::string> a = {"--name", in.work.stage, "--cluster", absolute_path(cluster.origin),
                                "--mode", "chain", "--reshape",
                                "--images-per-s", parse::format_value(in.images_per_s_per_gpu),
                                "--ckpt-seconds", parse::format_value(in.ckpt_seconds),
                                "--scaling", cfg.scaling,
                                "--max-chunks", std::to_string(max_chunks)};
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) a.insert(a.end(), {key, value});
  };
  std::vector<std::string> gpus;
  for (int g : cfg.gpus) gpus.push_back(std::to_string(g));
  add("--partition", parse::join(cfg.partitions, ","));
  add("--gpus", parse::join(gpus, ","));
  add("--walltime", cfg.walltime);
  add("--account", cluster.account);
  add("--train-command", cfg.train_command);
  add("--sdn-command", cfg.sdn_command);
  add("--pipeline", cfg.pipeline_dir);
  add("--node", cfg.pipeline_node);
  // --steps/--global-batch/--batch-per-rank are not repeated: the re-plan reads run.ini, which holds them.
  return a;
}

void write_run_dir(const PlanConfig& cfg, const std::string& run_dir, const std::string& stage_text, const JobSpec& job,
                   const RunPlan& plan, const std::string& table, const std::string& galyleo_cmd) {
  const std::string run_ini = run_dir + "/run.ini";
  struct stat st {};
  if (::stat(run_ini.c_str(), &st) == 0 && fs::read_file(run_ini) != stage_text && !cfg.force)
    throw UsageError(run_ini + " differs from " + cfg.stage + " (with the command-line overrides): this run directory "
                     "belongs to another configuration",
                     "choose a new --run-dir, or pass --force to re-plan it (its checkpoints must match the new config)");
  create_run_layout(run_dir);
  fs::write_atomic(run_ini, stage_text);
  fs::write_atomic(run_dir + "/" + plan.script, render_sbatch(job));
  ::chmod((run_dir + "/" + plan.script).c_str(), 0755);
  fs::write_atomic(run_dir + "/jobs/plan.ini", render_plan_ini(plan));
  fs::write_atomic(run_dir + "/jobs/plan.txt", table);
  if (!galyleo_cmd.empty()) fs::write_atomic(run_dir + "/jobs/galyleo.sh", "#!/bin/bash\n" + galyleo_cmd + "\n");
  auto e = journal::make(journal::kind::kPlan);
  e["partition"] = plan.partition;
  e["gpus"] = plan.gpus;
  e["walltime_s"] = plan.walltime_s;
  e["chunks"] = plan.chunks;
  e["mode"] = plan.mode;
  e["total_steps"] = plan.total_steps;
  journal::append(journal::path_in(run_dir), e);
}

}  // namespace

static int plan_impl(const Args& args, PlannedStage* estimate) {
  auto parsed = parse_command(plan_schema(), args, validate);
  if (!parsed) return kExitOk;
  const PlanConfig& cfg = *parsed;
  auto print = [&](const std::string& text) {
    if (!estimate) std::fputs(text.c_str(), stdout);
  };
  ClusterProfile cluster = load_cluster_profile(cfg.cluster);
  if (!cfg.account.empty()) cluster.account = cfg.account;
  StageWork given;
  given.stage = cfg.name;
  given.total_steps = cfg.steps;
  given.global_batch = cfg.global_batch;
  given.per_gpu_batch = cfg.batch_per_rank;
  StageWork work = read_stage_work(IniDoc::load(cfg.stage), given);
  // run.ini is the one truth the jobs train from: the stage config as given, with the overrides written into it.
  const std::string stage_text = run_ini_text(fs::read_file(cfg.stage), cfg.stage, given);
  const RankThreads threads = read_rank_threads(IniDoc::parse(stage_text, cfg.stage));

  PlanInputs in;
  in.work = work;
  parse_scaling(cfg.scaling, in.scaling);
  in.now = static_cast<std::int64_t>(std::time(nullptr));
  in.partitions = cfg.partitions;
  in.gpu_counts = cfg.gpus;
  in.done_steps = cfg.done_steps;
  recipe::parse_rule(cfg.scale_recipe, in.scale_rule);
  if (!cfg.walltime.empty()) parse::parse_duration(cfg.walltime, in.walltime_s);
  if (in.scale_rule != recipe::Rule::kNone && cfg.reshape)
    throw UsageError("--scale-recipe with --reshape: a reshaping chain changes its GPU count, the scaled recipe must not",
                     "plan the scaled recipe once (it is written into run.ini), then re-plan that run.ini with --reshape");
  std::string source;
  if (!cfg.throughput.empty()) {
    Measured m = parse_measured(fs::read_file(cfg.throughput), cfg.throughput);
    in.images_per_s_per_gpu = m.images_per_s_per_gpu;
    in.ckpt_seconds = m.ckpt_seconds;
    in.stage_seconds = m.stage_seconds;  // [dist helper, issue 11 item 7] node-local staging per job
    source = m.source;
  } else {
    in.images_per_s_per_gpu = cfg.images_per_s > 0 ? cfg.images_per_s : cfg.it_per_s * work.per_gpu_batch;
    source = cfg.images_per_s > 0 ? "--images-per-s" : "--it-per-s x batch_per_rank";
  }
  if (cfg.ckpt_seconds > 0) in.ckpt_seconds = cfg.ckpt_seconds;
  if (in.ckpt_seconds <= 0) in.ckpt_seconds = 30;

  const std::string run_dir = cfg.run_dir.empty() ? std::string("/tmp/sdn-dry-run") : absolute_path(cfg.run_dir);
  const std::string job_name = job_name_for(work.stage, run_dir);
  std::vector<std::string> notes;
  if (!cfg.ignore_queue) notes.push_back(read_user_queue(job_name, in.queued));

  auto candidates = plan_candidates(cluster, in);
  if (cfg.probe) probe_start_times(cluster, in, candidates);
  const int best = pick_best(candidates);
  const std::string table = "cluster " + cluster.name + " (" + cluster.origin + "); throughput from " + source + "\n" +
                            format_plan_table(in, candidates, best);
  print(table);
  if (best < 0) {
    if (estimate) throw UsageError("no job shape can run stage " + work.stage + ":\n" + table, "see `sdn plan --help`");
    return kExitUsage;
  }
  const Candidate& c = candidates[static_cast<std::size_t>(best)];

  RunPlan plan;
  plan.stage = work.stage;
  plan.cluster = cluster.name;
  plan.mode = cfg.mode;
  plan.job_name = job_name;
  plan.partition = c.shape.partition;
  plan.nodes = c.shape.nodes;
  plan.gpus = c.shape.gpus;
  plan.walltime_s = c.shape.walltime_s;
  plan.grace_s = c.grace_s;
  plan.chunks = c.chunks;
  plan.max_chunks = cfg.max_chunks > 0 ? cfg.max_chunks : max_chunks_for(c.chunks);
  if (!c.start_note.empty()) notes.push_back(c.start_note);
  // The scaled recipe of the chosen shape is what the jobs train: into run.ini with the other overrides.
  std::string run_ini = stage_text;
  if (in.scale_rule != recipe::Rule::kNone) {
    StageWork scaled = given;
    scaled.total_steps = c.work.total_steps;
    scaled.global_batch = c.work.global_batch;
    run_ini = run_ini_text(fs::read_file(cfg.stage), cfg.stage, scaled,
                           {{"optim.lr", parse::format_value(c.work.lr)},
                            {"optim.warmup_steps", std::to_string(c.work.warmup_steps)}});
    notes.push_back("recipe scaled to " + std::to_string(c.shape.gpus) + " GPUs: " +
                    recipe::describe(recipe_of(work), recipe_of(c.work), in.scale_rule) + " (written into run.ini)");
  }
  bool reshape = cfg.reshape;
  plan.chain_jobs = 1;
  if (cfg.mode == "chain") {
    const int wanted = cfg.chain_jobs > 0 ? cfg.chain_jobs : std::min(c.chunks + 1, plan.max_chunks);
    const ChainQueue q = plan_chain_queue(*cluster.find(c.shape.partition), c.shape.gpus, c.chunks, wanted, cfg.reshape,
                                          queued_in(in, c.shape.partition));
    plan.chain_jobs = q.jobs;
    reshape = q.reshape;
    if (!q.note.empty()) notes.push_back(q.note);
  }
  plan.reshape = reshape;
  if (auto w = oversubscription_warning(threads, cluster.find(c.shape.partition)->cores_per_gpu); !w.empty())
    notes.push_back("warning: " + w);
  const bool placeholder = !cluster.account_placeholder.empty() && cluster.account == cluster.account_placeholder;
  if (placeholder)
    notes.push_back("account '" + cluster.account + "' is the example account of " + cluster.origin +
                    ": pass --account YOUR_ALLOCATION (or set [cluster] account in a copy of the profile)");
  plan.total_steps = c.work.total_steps;
  plan.images_per_s = c.images_per_s;
  plan.elapsed_s = c.elapsed_s;
  plan.service_units = c.service_units;
  plan.planned_at = in.now;
  JobChoices choices;
  choices.mode = cfg.mode;
  choices.reshape = reshape;
  choices.run_dir = run_dir;
  choices.job_name = plan.job_name;
  choices.max_chunks = plan.max_chunks;
  choices.sdn_command = resolve_sdn_command(cfg.sdn_command, cluster);
  choices.train_command = cfg.train_command;
  choices.stage = work.stage;
  choices.total_steps = c.work.total_steps;
  choices.pipeline_dir = cfg.pipeline_dir.empty() ? "" : absolute_path(cfg.pipeline_dir);
  choices.pipeline_node = cfg.pipeline_node;
  JobSpec job = make_job_spec(cluster, c, choices);
  if (auto problems = validate_job_spec(job); !problems.empty())
    throw UsageError("cannot write a job script: " + parse::join(problems, "; "), "see `sdn plan --help`");

  std::string galyleo_cmd;
  if (cfg.galyleo) {
    GalyleoSpec g = make_galyleo_spec(cluster, c, run_dir);
    if (auto problems = validate_galyleo(g); !problems.empty())
      throw UsageError("cannot write the galyleo command: " + parse::join(problems, "; "),
                       "set [cluster] account in the profile or pass --account");
    galyleo_cmd = render_galyleo(g);
    print("\nnotebook on " + c.shape.partition + " with the suite's modules:\n  " + galyleo_cmd + "\n");
  }
  char chosen[256];
  std::snprintf(chosen, sizeof chosen, "\nchosen: %s x %d GPUs, %s per job, %d chunk(s), mode %s%s, loop guard %d chunks\n",
                c.shape.partition.c_str(), c.shape.gpus, parse::format_walltime(c.shape.walltime_s).c_str(), c.chunks,
                cfg.mode.c_str(), reshape ? " (reshaping)" : "", plan.max_chunks);
  print(chosen);
  for (const auto& n : notes) print("  " + n + "\n");
  if (estimate) {
    estimate->plan = plan;
    estimate->source = source;
    estimate->notes = notes;
    return kExitOk;
  }
  if (cfg.dry_run) return kExitOk;
  if (placeholder)
    throw UsageError("refusing to write jobs charged to the example account '" + cluster.account + "' of " + cluster.origin,
                     "pass --account YOUR_ALLOCATION (see `module load slurm; sacctmgr show assoc user=$USER` or "
                     "`expanse-client user`)");
  std::string plan_text = table;
  for (const auto& n : notes) plan_text += "  " + n + "\n";
  write_run_dir(cfg, run_dir, run_ini, job, plan, plan_text, galyleo_cmd);
  if (reshape) {
    const auto replan = replan_args(cfg, cluster, in, plan.max_chunks);
    fs::write_atomic(run_dir + "/jobs/replan.args", parse::join(replan, "\n") + "\n");
  }
  std::printf("run directory %s written (run.ini, %s, jobs/plan.ini)\n  submit: sdn submit %s\n  follow: sdn status %s\n",
              run_dir.c_str(), plan.script.c_str(), run_dir.c_str(), run_dir.c_str());
  return kExitOk;
}

int run_plan(const Args& args) { return plan_impl(args, nullptr); }

PlannedStage plan_estimate(const Args& args) {
  PlannedStage out;
  plan_impl(args, &out);
  return out;
}

}  // namespace sdn::cli

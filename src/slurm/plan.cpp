// Implements the planning arithmetic and the plan table (see plan.hpp).
#include "slurm/plan.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>

#include "core/parse.hpp"

namespace sdn::slurm {

double Scaling::at(int gpus) const {
  if (points.empty()) return 1.0;
  if (gpus <= points.front().first) return points.front().second;
  if (gpus >= points.back().first) return points.back().second;
  for (std::size_t i = 1; i < points.size(); ++i) {
    if (gpus > points[i].first) continue;
    double x0 = std::log2(points[i - 1].first), x1 = std::log2(points[i].first), x = std::log2(gpus);
    double t = (x - x0) / (x1 - x0);
    return points[i - 1].second + t * (points[i].second - points[i - 1].second);
  }
  return points.back().second;
}

std::string parse_scaling(const std::string& text, Scaling& out) {
  Scaling s;
  for (const auto& item : parse::split(text, ',')) {
    auto parts = parse::split(parse::trim(item), ':', false);
    int g = 0;
    double e = 0;
    if (parts.size() != 2 || !parse::parse_value(parts[0], g).empty() || !parse::parse_value(parts[1], e).empty() ||
        g < 1 || e <= 0 || e > 1)
      return "'" + parse::trim(item) + "' is not GPUS:EFFICIENCY with GPUS >= 1 and 0 < EFFICIENCY <= 1 "
             "(e.g. 1:1,4:0.9,16:0.8)";
    for (const auto& p : s.points)
      if (p.first == g) return "GPU count " + std::to_string(g) + " given twice";
    s.points.emplace_back(g, e);
  }
  if (s.points.empty()) return "empty scaling curve (e.g. 1:1,4:0.9,16:0.8)";
  std::sort(s.points.begin(), s.points.end());
  out = s;
  return {};
}

std::string format_scaling(const Scaling& s) {
  std::vector<std::string> parts;
  for (const auto& [g, e] : s.points) parts.push_back(std::to_string(g) + ":" + parse::format_value(e));
  return parse::join(parts, ",");
}

std::int64_t signal_grace_s(double ckpt_seconds, double step_seconds) {
  return static_cast<std::int64_t>(std::ceil(2.0 * ckpt_seconds + step_seconds)) + 15;
}

int max_chunks_for(int planned_chunks) { return planned_chunks + std::max(2, planned_chunks / 2); }

StageWork work_for(const PlanInputs& in, int gpus) {
  if (in.scale_rule == recipe::Rule::kNone) return in.work;
  const recipe::Recipe r = recipe::scale(recipe_of(in.work), gpus, in.scale_rule);
  StageWork w = in.work;
  w.total_steps = r.total_steps;
  w.global_batch = static_cast<int>(r.global_batch);
  w.lr = r.lr;
  w.warmup_steps = r.warmup_steps;
  return w;
}

recipe::Recipe recipe_of(const StageWork& w) {
  recipe::Recipe r;
  r.total_steps = w.total_steps;
  r.global_batch = w.global_batch;
  r.per_gpu_batch = w.per_gpu_batch;
  r.lr = w.lr;
  r.warmup_steps = w.warmup_steps;
  return r;
}

double billed_gpus_for(const Partition& p, const Shape& shape) {
  if (p.exclusive) return shape.nodes * p.gpus_per_node;
  // Shared nodes: charged for the largest share of the node the job ties up (GPUs, cores or memory).
  const double gpn = shape.gpus_per_node, node_gpus = p.gpus_per_node;
  const double cores = static_cast<double>(p.cores_per_gpu) * gpn / std::max(1, p.node_cores);
  const double mem = static_cast<double>(p.mem_per_gpu_mb) * gpn / std::max<std::int64_t>(1, p.node_mem_mb);
  return shape.nodes * node_gpus * std::max({gpn / node_gpus, cores, mem});
}

QueueUsage queued_in(const PlanInputs& in, const std::string& partition) {
  const auto it = in.queued.find(partition);
  return it == in.queued.end() ? QueueUsage{} : it->second;
}

int queue_limit(const Partition& p, int gpus_per_job, const QueueUsage& used) {
  int n = INT_MAX;
  if (p.max_jobs > 0) n = std::min(n, std::max(0, p.max_jobs - used.jobs));
  if (p.max_user_gpus > 0 && gpus_per_job > 0) n = std::min(n, std::max(0, p.max_user_gpus - used.gpus) / gpus_per_job);
  return n;
}

namespace {

std::string plural(int n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

// "the per-user limit of gpu (8 jobs, 32 GPUs running + queued; your 2 jobs there hold 8 GPUs)".
std::string limit_text(const Partition& p, const QueueUsage& used) {
  std::string t = "the per-user limit of " + p.name + " (" +
                  (p.max_jobs > 0 ? std::to_string(p.max_jobs) + " jobs" : std::string()) +
                  (p.max_jobs > 0 && p.max_user_gpus > 0 ? ", " : "") +
                  (p.max_user_gpus > 0 ? std::to_string(p.max_user_gpus) + " GPUs" : std::string()) + " running + queued";
  if (used.jobs > 0)
    t += "; your " + plural(used.jobs, "job") + " already there hold" + (used.jobs == 1 ? "s " : " ") + plural(used.gpus, "GPU");
  return t + ")";
}

}  // namespace

ChainQueue plan_chain_queue(const Partition& p, int gpus_per_job, int chunks, int wanted_jobs, bool reshape,
                            const QueueUsage& used) {
  ChainQueue q;
  const int limit = queue_limit(p, gpus_per_job, used);
  const std::string lim = limit_text(p, used);
  if (reshape) {
    // A continuing job queues its successor while it still runs: two jobs at once (the successor only pends, so
    // max_running = 1 is enough).
    q.reshape = true;
    q.jobs = 1;
    if (limit < 2) q.note = "reshaping needs 2 jobs at once (running + its successor), more than " + lim;
    return q;
  }
  // Chained jobs run one after another (afterany), so a running limit of >= 1 never delays the chain itself.
  auto running_note = [&](int jobs) -> std::string {
    if (p.max_running <= 0 || jobs <= p.max_running) return {};
    return "; " + p.name + " runs at most " + plural(p.max_running, "job") + " per user at a time: the chain's " +
           std::to_string(jobs) + " queued jobs run one after another, as chained jobs do anyway (the finish time "
           "assumes it)";
  };
  if (wanted_jobs <= limit) {
    q.jobs = wanted_jobs;
    q.note = running_note(q.jobs);
    if (!q.note.empty()) q.note = q.note.substr(2);
    return q;
  }
  if (limit >= chunks) {
    q.jobs = limit;
    q.note = "queueing " + plural(limit, "job") + " instead of " + std::to_string(wanted_jobs) + ": " + lim +
             " (enough for the " + plural(chunks, "planned chunk") + ", no spare job)" + running_note(limit);
    return q;
  }
  q.jobs = 1;
  q.reshape = true;
  q.note = "a chain of " + std::to_string(chunks) + " chunks needs more jobs than " + lim +
           " allows queued at once: reshaping chain instead (one job queued at a time; each continuing job queues its "
           "successor)";
  if (limit < 2) q.note += "; even that needs 2 jobs at once, more than the limit";
  return q;
}

std::vector<Shape> candidate_shapes(const ClusterProfile& cluster, const PlanInputs& in) {
  std::vector<Shape> out;
  for (const auto& p : cluster.partitions) {
    if (!in.partitions.empty() && std::find(in.partitions.begin(), in.partitions.end(), p.name) == in.partitions.end())
      continue;
    std::vector<int> counts;
    if (!p.exclusive)
      for (int g = 1; g <= std::min(p.gpus_per_node, p.max_gpus); ++g) counts.push_back(g);
    for (int n = p.exclusive ? 1 : 2; n <= p.max_nodes && n * p.gpus_per_node <= p.max_gpus; ++n)
      counts.push_back(n * p.gpus_per_node);
    for (int g : counts) {
      if (!in.gpu_counts.empty() && std::find(in.gpu_counts.begin(), in.gpu_counts.end(), g) == in.gpu_counts.end())
        continue;
      Shape s;
      s.partition = p.name;
      s.nodes = (g + p.gpus_per_node - 1) / p.gpus_per_node;
      s.gpus = g;
      s.gpus_per_node = g / s.nodes;
      s.walltime_s = in.walltime_s > 0 ? in.walltime_s : p.max_walltime_s;
      out.push_back(s);
    }
  }
  return out;
}

Candidate evaluate_shape(const ClusterProfile& cluster, const PlanInputs& in, const Shape& shape,
                         std::int64_t first_start) {
  Candidate c;
  c.shape = shape;
  c.start_time = first_start;
  const Partition* p = cluster.find(shape.partition);
  auto reject = [&](const std::string& why) {
    c.feasible = false;
    c.why_not = why;
    return c;
  };
  if (!p) return reject("no partition '" + shape.partition + "' in " + cluster.origin);
  if (p->max_user_gpus > 0 && shape.gpus > p->max_user_gpus)
    return reject(std::to_string(shape.gpus) + " GPUs exceed the per-user limit of " + std::to_string(p->max_user_gpus) +
                  " GPUs on " + p->name);
  const QueueUsage used = queued_in(in, p->name);
  if (p->max_jobs > 0 && used.jobs >= p->max_jobs)
    return reject("your " + plural(used.jobs, "job") + " already in the queue reach the per-user limit of " +
                  plural(p->max_jobs, "job") + " (running + queued) on " + p->name);
  if (p->max_user_gpus > 0 && shape.gpus > p->max_user_gpus - used.gpus)
    return reject(std::to_string(shape.gpus) + " GPUs do not fit the per-user limit of " +
                  std::to_string(p->max_user_gpus) + " GPUs on " + p->name + ": your jobs already in the queue hold " +
                  std::to_string(used.gpus));
  if (shape.walltime_s > p->max_walltime_s)
    return reject("time limit " + parse::format_walltime(shape.walltime_s) + " exceeds the partition's " +
                  parse::format_walltime(p->max_walltime_s));
  const StageWork work = work_for(in, shape.gpus);
  c.work = work;
  const int per_step = work.per_gpu_batch * shape.gpus;
  if (per_step > work.global_batch || work.global_batch % per_step != 0)
    return reject("global batch " + std::to_string(work.global_batch) + " is not a multiple of " +
                  std::to_string(shape.gpus) + " GPUs x " + std::to_string(work.per_gpu_batch) + " per GPU");
  c.accumulation = work.global_batch / per_step;
  c.images_per_s = shape.gpus * in.images_per_s_per_gpu * in.scaling.at(shape.gpus);
  c.steps_per_s = c.images_per_s / work.global_batch;
  c.grace_s = signal_grace_s(in.ckpt_seconds, 1.0 / c.steps_per_s);
  // Every job starts up and, with data.stage_to, copies the shards to its node(s) before the first step.
  const std::int64_t startup_s = cluster.startup_s + static_cast<std::int64_t>(std::ceil(in.stage_seconds));
  c.chunk_useful_s = shape.walltime_s - startup_s - c.grace_s - kSignalEarlyS;
  if (c.chunk_useful_s <= 0)
    return reject("time limit " + parse::format_walltime(shape.walltime_s) + " leaves no training time after start-up (" +
                  std::to_string(startup_s) + " s) and the stop signal (" + std::to_string(c.grace_s) +
                  " s grace, up to " + std::to_string(kSignalEarlyS) + " s early)");
  const auto left = std::max<std::int64_t>(0, work.total_steps - in.done_steps);
  c.compute_s = static_cast<std::int64_t>(std::ceil(static_cast<double>(left) / c.steps_per_s));
  c.chunks = static_cast<int>((c.compute_s + c.chunk_useful_s - 1) / c.chunk_useful_s);
  const auto save_s = static_cast<std::int64_t>(std::ceil(in.ckpt_seconds));
  // Every chunk pays start-up and one save; every chunk after the first waits for the requeue and the queue.
  c.elapsed_s = c.compute_s + c.chunks * (startup_s + save_s) +
                (c.chunks - 1) * (cluster.requeue_gap_s + p->queue_wait_s);
  const double billed_gpus = billed_gpus_for(*p, shape);
  c.billed_gpu_hours = billed_gpus * static_cast<double>(c.compute_s + c.chunks * (startup_s + save_s)) / 3600.0;
  c.service_units = c.billed_gpu_hours * p->charge_factor;
  if (p->max_running > 0 && used.running >= p->max_running) {
    // Every running slot is the user's own: the first chunk waits for one of those jobs to end.
    c.start_note = "your " + plural(used.running, "running job") + " on " + p->name + " hold" +
                   (used.running == 1 ? "s" : "") + " its " + plural(p->max_running, "running slot") +
                   " per user: the first chunk starts when one ends";
    if (used.first_end > 0) {
      c.start_time = std::max(c.start_time, used.first_end);
      c.start_note += " (+" + format_span(used.first_end - in.now) + ", counted in start and finish)";
    } else {
      c.start_note += " (their end is unknown: not counted in start and finish)";
    }
  }
  c.finish_time = c.start_time + c.elapsed_s;
  return c;
}

std::vector<Candidate> plan_candidates(const ClusterProfile& cluster, const PlanInputs& in) {
  std::vector<Candidate> out;
  for (const auto& s : candidate_shapes(cluster, in)) {
    const Partition* p = cluster.find(s.partition);
    out.push_back(evaluate_shape(cluster, in, s, in.now + (p ? p->queue_wait_s : 0)));
  }
  return out;
}

int pick_best(const std::vector<Candidate>& cs) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(cs.size()); ++i) {
    if (!cs[i].feasible) continue;
    if (best < 0) {
      best = i;
      continue;
    }
    const auto &a = cs[i], &b = cs[best];
    if (a.finish_time != b.finish_time ? a.finish_time < b.finish_time
        : a.service_units != b.service_units ? a.service_units < b.service_units
                                             : a.shape.gpus < b.shape.gpus)
      best = i;
  }
  return best;
}

std::string format_span(std::int64_t seconds) {
  if (seconds < 0) return "-" + format_span(-seconds);
  char buf[64];
  std::int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  if (d > 0)
    std::snprintf(buf, sizeof buf, "%lldd %02lld:%02lld", (long long)d, (long long)h, (long long)m);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", (long long)h, (long long)m, (long long)s);
  return buf;
}

std::string format_plan_table(const PlanInputs& in, const std::vector<Candidate>& cs, int best) {
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line,
                "stage %s: %lld steps x %d images = %lld images; %.2f images/s per GPU at batch %d; "
                "checkpoint %.0f s; scaling %s\n\n",
                in.work.stage.c_str(), (long long)in.work.total_steps, in.work.global_batch,
                (long long)in.work.total_images(), in.images_per_s_per_gpu, in.work.per_gpu_batch, in.ckpt_seconds,
                format_scaling(in.scaling).c_str());
  out += line;
  if (in.stage_seconds > 0) {
    std::snprintf(line, sizeof line,
                  "node-local staging of the shards: %.3g s per job, counted as %lld s of every job's start-up\n\n",
                  in.stage_seconds, static_cast<long long>(std::ceil(in.stage_seconds)));
    out.pop_back();  // the line goes between the header and its blank line
    out += line;
  }
  if (in.scale_rule != recipe::Rule::kNone)
    out += std::string("recipe scaled per shape (") + recipe::rule_name(in.scale_rule) +
           " rule): global batch = GPUs x batch per GPU, learning rate scaled, steps cut to the same images, poly "
           "decay over the new length. A larger batch is not the same optimisation: check the accuracy.\n\n";
  std::snprintf(line, sizeof line, "  %-12s %5s %5s %11s %5s %8s %6s %6s %12s %9s %9s %10s %12s\n", "partition",
                "gpus", "nodes", "time limit", "accum", "img/s", "grace", "chunks", "wall time", "GPU-h", "SUs",
                "start", "finish");
  out += line;
  std::vector<std::string> infeasible;
  for (int i = 0; i < static_cast<int>(cs.size()); ++i) {
    const auto& c = cs[i];
    if (!c.feasible) {
      infeasible.push_back(c.shape.partition + " x " + std::to_string(c.shape.gpus) + " GPUs: " + c.why_not);
      continue;
    }
    std::snprintf(line, sizeof line, "%c %-12s %5d %5d %11s %5d %8.1f %6lld %6d %12s %9.1f %9.1f %10s %12s\n",
                  i == best ? '*' : ' ', c.shape.partition.c_str(), c.shape.gpus, c.shape.nodes,
                  parse::format_walltime(c.shape.walltime_s).c_str(), c.accumulation, c.images_per_s,
                  (long long)c.grace_s, c.chunks, format_span(c.elapsed_s).c_str(), c.billed_gpu_hours,
                  c.service_units, ("+" + format_span(c.start_time - in.now) + (c.probed ? "p" : "")).c_str(),
                  ("+" + format_span(c.finish_time - in.now)).c_str());
    out += line;
    if (in.scale_rule != recipe::Rule::kNone)
      out += "      recipe: " + recipe::describe(recipe_of(in.work), recipe_of(c.work), in.scale_rule) + "\n";
  }
  out += "\n  wall time: first start to completion (start-ups, saves, requeue and queue gaps included); "
         "start/finish relative to now";
  out += std::any_of(cs.begin(), cs.end(), [](const Candidate& c) { return c.probed; })
             ? "; 'p' = start from sbatch --test-only\n"
             : "\n";
  if (!infeasible.empty()) {
    out += "  not possible:\n";
    for (const auto& s : infeasible) out += "    " + s + "\n";
  }
  if (best < 0) out += "  no feasible shape: relax --partition/--gpus/--walltime or check the stage's batch sizes\n";
  if (best >= 0 && cs[best].chunk_useful_s < 60)
    out += "  note: only " + std::to_string(cs[best].chunk_useful_s) +
           " s of training per job: USR2 comes up to 30-60 s early, possibly before the trainer's first step (the chunk "
           "then makes no progress and the guard stops the run); prefer a longer --walltime\n";
  return out;
}

}  // namespace sdn::slurm

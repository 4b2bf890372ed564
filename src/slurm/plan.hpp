// Pure planning: from the work of a stage, a per-GPU throughput, a scaling curve and a cluster profile to
// candidate job shapes (partition x GPUs x time limit) with chunk counts, wall time, service units and the
// expected finish. No I/O: `now` and probed start times come in as values, so every number is testable.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <map>

#include "core/recipe_scaling.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/queue_usage.hpp"
#include "slurm/stage_work.hpp"

namespace sdn::slurm {

// Parallel efficiency per GPU count ("1:1,2:0.95,4:0.9"): throughput(g) = g x per-GPU rate x at(g).
struct Scaling {
  std::vector<std::pair<int, double>> points;  // sorted by GPU count
  // Piecewise linear in log2(g) between points, held constant beyond the ends.
  double at(int gpus) const;
};
std::string parse_scaling(const std::string& text, Scaling& out);  // error text, "" on success
std::string format_scaling(const Scaling& s);

struct Shape {
  std::string partition;
  int nodes = 1;
  int gpus = 1;  // total over all nodes
  int gpus_per_node = 1;
  std::int64_t walltime_s = 0;
};

struct PlanInputs {
  StageWork work;
  double images_per_s_per_gpu = 0;  // measured on one GPU at work.per_gpu_batch
  Scaling scaling;
  double ckpt_seconds = 30;         // measured time of one checkpoint save
  double stage_seconds = 0;         // measured node-local staging of the shards (data.stage_to), paid by every job
  std::int64_t now = 0;             // seconds since the epoch
  std::vector<std::string> partitions;  // restrict to these (empty: all)
  std::vector<int> gpu_counts;          // restrict to these (empty: all the partition allows)
  std::int64_t walltime_s = 0;          // job time limit (0: each partition's maximum)
  std::int64_t done_steps = 0;          // already trained (re-planning the rest of a running chain)
  recipe::Rule scale_rule = recipe::Rule::kNone;  // scale the recipe to each shape's GPU count (sdn plan --scale-recipe)
  // The user's jobs already in each partition (sdn plan reads `squeue --me`): they use up the per-user limits.
  std::map<std::string, QueueUsage> queued;
};

// The user's jobs already in `partition` (none if not listed).
QueueUsage queued_in(const PlanInputs& in, const std::string& partition);

// The work a shape of `gpus` GPUs trains: `in.work`, or its recipe scaled to that GPU count.
StageWork work_for(const PlanInputs& in, int gpus);
recipe::Recipe recipe_of(const StageWork& work);

struct Candidate {
  Shape shape;
  bool feasible = true;
  std::string why_not;              // set when !feasible
  int accumulation = 1;             // micro-batches per optimiser step on each rank
  double images_per_s = 0;
  double steps_per_s = 0;
  std::int64_t grace_s = 0;         // --signal lead time
  std::int64_t chunk_useful_s = 0;  // training seconds per chunk
  std::int64_t compute_s = 0;       // pure training time of the whole stage
  int chunks = 0;
  std::int64_t elapsed_s = 0;       // first chunk start to completion, including start-ups and gaps
  double billed_gpu_hours = 0;
  double service_units = 0;
  std::int64_t start_time = 0;      // expected start of the first chunk
  std::int64_t finish_time = 0;
  bool probed = false;              // start_time came from `sbatch --test-only`
  std::string start_note;           // why the start waits for the user's own jobs (max_running reached), if it does
  StageWork work;                   // what this shape trains (the scaled recipe with --scale-recipe)
};

// Seconds before the time limit at which USR2 must arrive: twice the measured checkpoint time, one step (the
// trainer stops at a step boundary) and 15 s for the job script to record the chunk and requeue.
// slurmctld sends the signal from its 30-second periodic check once the job is within grace + 30 s of its end,
// so it arrives early, never late (observed here: 28 s early every time; the man page allows up to 60 s).
// The planner therefore counts kSignalEarlyS more seconds of each job as lost to the stop.
inline constexpr std::int64_t kSignalEarlyS = 30;
std::int64_t signal_grace_s(double ckpt_seconds, double step_seconds);

// Chunks the guard allows before it stops a run as a loop: the plan plus slack for preemptions and node failures.
int max_chunks_for(int planned_chunks);

// GPUs a job of this shape is billed for: whole nodes on exclusive partitions; on shared ones the largest of its
// GPU, core and memory fractions of a node, times the node's GPUs (Expanse's rule for shared partitions).
double billed_gpus_for(const Partition& partition, const Shape& shape);

// Jobs of `gpus_per_job` GPUs one user may still queue in the partition (running + queued, less the jobs and GPUs
// `used` by the user's jobs already there): INT_MAX without limits, 0 when nothing more fits.
int queue_limit(const Partition& partition, int gpus_per_job, const QueueUsage& used = {});

// How a chain is queued within the partition's per-user limits, after the user's jobs `used` there: `wanted_jobs` at
// once if allowed, else fewer (still at least the planned chunks), else a reshaping chain (one queued at a time).
// `note` says what changed and why, what it counted, and what max_running means for the chain.
struct ChainQueue {
  int jobs = 1;
  bool reshape = false;
  std::string note;
};
ChainQueue plan_chain_queue(const Partition& partition, int gpus_per_job, int chunks, int wanted_jobs, bool reshape,
                            const QueueUsage& used = {});

// Every shape the partitions allow (respecting the filters), in profile order then GPU count.
std::vector<Shape> candidate_shapes(const ClusterProfile& cluster, const PlanInputs& in);

// Evaluates one shape whose first chunk starts at `first_start`. The user's jobs in the partition (in.queued) count
// against its limits: a shape that no longer fits is not possible, and when they hold every running slot
// (max_running) the first chunk starts no earlier than the first of them ends.
Candidate evaluate_shape(const ClusterProfile& cluster, const PlanInputs& in, const Shape& shape,
                         std::int64_t first_start);

// All candidates, each starting at now + the partition's queue_wait guess.
std::vector<Candidate> plan_candidates(const ClusterProfile& cluster, const PlanInputs& in);

// Index of the feasible candidate with the earliest finish (ties: fewer service units, then fewer GPUs); -1 if none.
int pick_best(const std::vector<Candidate>& candidates);

// The side-by-side table printed by `sdn plan` (times relative to in.now; `best` marked with '*').
std::string format_plan_table(const PlanInputs& in, const std::vector<Candidate>& candidates, int best);

// "1d 02:03" / "02:03:04" for durations in tables.
std::string format_span(std::int64_t seconds);

}  // namespace sdn::slurm

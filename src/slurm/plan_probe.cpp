// Implements the planner's questions to the live scheduler (see plan_probe.hpp).
#include "slurm/plan_probe.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {

void probe_start_times(const ClusterProfile& cluster, const PlanInputs& in, std::vector<Candidate>& cs) {
  for (auto& c : cs) {
    if (!c.feasible) continue;
    const Partition* p = cluster.find(c.shape.partition);
    std::vector<std::string> argv = {"sbatch", "--test-only", "--partition=" + c.shape.partition,
                                     "--nodes=" + std::to_string(c.shape.nodes),
                                     "--ntasks-per-node=" + std::to_string(c.shape.gpus_per_node),
                                     cluster.gpu_bind == "task" ? "--gpus-per-task=1"
                                                                : "--gpus-per-node=" + std::to_string(c.shape.gpus_per_node),
                                     "--cpus-per-task=" + std::to_string(p->cores_per_gpu),
                                     "--time=" + parse::format_walltime(c.shape.walltime_s), "--wrap=true"};
    if (!cluster.account.empty()) argv.push_back("--account=" + cluster.account);
    auto r = run_command(argv);
    auto start = parse_test_only_start(r.err + r.out);
    if (!start) {
      c.feasible = false;
      c.why_not = "scheduler: " + parse::trim(r.err.empty() ? r.out : r.err);
      continue;
    }
    c = evaluate_shape(cluster, in, c.shape, std::max<std::int64_t>(*start, in.now));
    c.probed = true;
  }
}

std::string read_user_queue(const std::string& job_name, std::map<std::string, QueueUsage>& out) {
  try {
    out = usage_by_partition(squeue_user_jobs(), job_name);
    return "counted your jobs already in the queue (squeue --me, not this run's) against the per-user limits: " +
           describe_usage(out);
  } catch (const Error& e) {
    // Slurm's last line says why (a fatal error after its DNS and config lookups).
    const std::string& m = e.message();
    const auto nl = m.find_last_of('\n');
    const std::string why = nl == std::string::npos ? m : "squeue --me: " + m.substr(nl + 1);
    return "your jobs already in the queue are not counted against the per-user limits (" + why + ")";
  }
}

}  // namespace sdn::slurm

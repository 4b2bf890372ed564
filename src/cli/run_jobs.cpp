// Implements run job submission and cancellation (see run_jobs.hpp).
#include "cli/run_jobs.hpp"

#include <unistd.h>

#include <climits>

#include "core/journal.hpp"
#include "core/parse.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::cli {

std::string resolve_sdn_command(const std::string& override_command, const slurm::ClusterProfile& cluster) {
  if (!override_command.empty()) return override_command;
  if (!cluster.sdn_command.empty()) return cluster.sdn_command;
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "sdn";
}

std::vector<std::string> dependency_args(const std::vector<std::string>& after) {
  if (after.empty()) return {};
  return {"--dependency=afterany:" + parse::join(after, ":")};
}

std::vector<std::string> submit_run_jobs(const std::string& run_dir, const slurm::RunPlan& plan,
                                         const std::vector<std::string>& after) {
  const std::string script = run_dir + "/" + plan.script;
  std::vector<std::string> ids;
  const int n = plan.mode == "chain" ? plan.chain_jobs : 1;
  for (int i = 0; i < n; ++i)
    ids.push_back(slurm::sbatch_submit(script, ids.empty() ? dependency_args(after) : dependency_args({ids.back()})));
  auto e = journal::make(journal::kind::kSubmit);
  e["mode"] = plan.mode;
  e["job_ids"] = ids;
  e["script"] = plan.script;
  if (!after.empty()) e["waits_for"] = after;
  journal::append(journal::path_in(run_dir), e);
  return ids;
}

std::vector<std::string> cancel_run_jobs(const std::string& run_dir, const slurm::RunPlan& plan) {
  std::vector<std::string> ids;
  for (const auto& q : slurm::squeue_by_name(plan.job_name)) ids.push_back(q.job_id);
  auto e = journal::make(journal::kind::kCancel);
  e["job_ids"] = ids;
  journal::append(journal::path_in(run_dir), e);
  slurm::scancel_jobs(ids);
  return ids;
}

}  // namespace sdn::cli

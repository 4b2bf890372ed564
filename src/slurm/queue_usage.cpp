// Implements the per-partition count of the user's queued jobs (see queue_usage.hpp).
#include "slurm/queue_usage.hpp"

#include <algorithm>
#include <sstream>

#include "core/parse.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {
namespace {

int to_int(const std::string& text) {
  int v = 0;
  return parse::parse_value(parse::trim(text), v).empty() && v > 0 ? v : 0;
}

// GPUs in a comma list of TRES items; `sep` separates name and count ('=' in tres-alloc, ':' in requests).
// Untyped counts win over typed ones (Slurm lists both when GPUs have a type: gres/gpu=4,gres/gpu:v100=4).
int gpu_count(const std::string& list, char sep) {
  int untyped = 0, typed = 0;
  for (auto item : parse::split(list, ',')) {
    item = parse::trim(item);
    if (item.rfind("gres/", 0) == 0 || item.rfind("gres:", 0) == 0) item = item.substr(5);
    if (sep == '=') {
      const auto eq = item.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = item.substr(0, eq);
      if (key == "gpu") untyped += to_int(item.substr(eq + 1));
      else if (key.rfind("gpu:", 0) == 0) typed += to_int(item.substr(eq + 1));
      continue;
    }
    const auto parts = parse::split(item, ':', false);
    if (parts.size() < 2 || parts[0] != "gpu") continue;
    (parts.size() == 2 ? untyped : typed) += to_int(parts.back());
  }
  return untyped > 0 ? untyped : typed;
}

std::string plural(int n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

int gpus_of(const std::string& tres_alloc, const std::string& per_job, const std::string& per_node,
            const std::string& per_task, int nodes, int tasks) {
  if (const int alloc = gpu_count(tres_alloc, '='); alloc > 0) return alloc;
  if (const int job = gpu_count(per_job, ':'); job > 0) return job;
  if (const int node = gpu_count(per_node, ':'); node > 0) return node * std::max(1, nodes);
  return gpu_count(per_task, ':') * std::max(1, tasks);
}

std::vector<UserJob> parse_user_jobs(const std::string& out) {
  std::vector<UserJob> rows;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (parse::trim(line).empty()) continue;
    auto f = parse::split(line, '|', false);
    if (f.size() < 11) continue;
    for (auto& v : f) v = parse::trim(v);
    UserJob j;
    j.job_id = f[0];
    j.name = f[1];
    j.partition = f[2];
    j.state = f[3];
    j.end = parse_slurm_time(f[4]).value_or(0);
    j.gpus = gpus_of(f[7], f[8], f[9], f[10], to_int(f[5]), to_int(f[6]));
    rows.push_back(j);
  }
  return rows;
}

std::map<std::string, QueueUsage> usage_by_partition(const std::vector<UserJob>& jobs, const std::string& skip_name) {
  std::map<std::string, QueueUsage> out;
  for (const auto& j : jobs) {
    if (!skip_name.empty() && j.name == skip_name) continue;
    for (const auto& p : parse::split(j.partition, ',')) {
      QueueUsage& u = out[parse::trim(p)];
      ++u.jobs;
      u.gpus += j.gpus;
      if (j.state != "RUNNING" && j.state != "COMPLETING") continue;
      ++u.running;
      if (j.end > 0 && (u.first_end == 0 || j.end < u.first_end)) u.first_end = j.end;
    }
  }
  return out;
}

std::string describe_usage(const std::map<std::string, QueueUsage>& usage) {
  std::vector<std::string> parts;
  for (const auto& [name, u] : usage)
    parts.push_back(name + " " + plural(u.jobs, "job") + " (" + std::to_string(u.running) + " running), " +
                    plural(u.gpus, "GPU"));
  return parts.empty() ? "none" : parse::join(parts, "; ");
}

}  // namespace sdn::slurm

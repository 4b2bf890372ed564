// Implements cluster profile parsing and lookup (see cluster_profile.hpp).
#include "slurm/cluster_profile.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "core/error.hpp"

#ifndef SDN_SOURCE_DIR
#define SDN_SOURCE_DIR ""
#endif

namespace sdn::slurm {
namespace {

bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      "cluster.name", "cluster.account", "cluster.account_placeholder", "env.*", "cluster.launcher", "cluster.gpu_bind", "cluster.sdn_command",
      "cluster.startup", "cluster.requeue_gap", "cluster.galyleo", "cluster.sbatch_extra", "cluster.env",
      "modules.reset", "modules.use", "modules.load", "modules.jupyter", "paths.scratch", "paths.project",
      "partition.*.max_walltime", "partition.*.max_nodes", "partition.*.max_gpus", "partition.*.gpus_per_node",
      "partition.*.cores_per_gpu", "partition.*.mem_per_gpu", "partition.*.charge_factor", "partition.*.exclusive",
      "partition.*.queue_wait", "partition.*.max_jobs", "partition.*.max_running",
      "partition.*.max_user_gpus", "partition.*.node_cores", "partition.*.node_mem"};
  return keys;
}

Partition read_partition(IniDoc& doc, const std::string& section) {
  Partition p;
  p.name = section.substr(std::string("partition.").size());
  auto k = [&](const char* key) { return section + "." + key; };
  if (doc.require(k("max_walltime"), "longest --time the partition accepts, e.g. 48:00:00"))
    doc.read_duration(k("max_walltime"), p.max_walltime_s);
  if (doc.require(k("gpus_per_node"), "GPUs in one node of this partition")) doc.read(k("gpus_per_node"), p.gpus_per_node);
  doc.read(k("max_nodes"), p.max_nodes);
  p.max_gpus = p.max_nodes * p.gpus_per_node;
  doc.read(k("max_gpus"), p.max_gpus);
  doc.read(k("cores_per_gpu"), p.cores_per_gpu);
  doc.read_size_mb(k("mem_per_gpu"), p.mem_per_gpu_mb);
  doc.read(k("charge_factor"), p.charge_factor);
  doc.read(k("exclusive"), p.exclusive);
  doc.read_duration(k("queue_wait"), p.queue_wait_s);
  doc.read(k("max_jobs"), p.max_jobs);
  doc.read(k("max_running"), p.max_running);
  doc.read(k("max_user_gpus"), p.max_user_gpus);
  doc.read(k("node_cores"), p.node_cores);
  doc.read_size_mb(k("node_mem"), p.node_mem_mb);
  auto check = [&](bool ok, const char* key, const std::string& why) {
    if (!ok) doc.add_problem(doc.where(k(key)) + ": " + k(key) + ": " + why);
  };
  check(p.max_walltime_s > 0, "max_walltime", "must be positive");
  check(p.gpus_per_node >= 1, "gpus_per_node", "must be at least 1");
  check(p.max_nodes >= 1, "max_nodes", "must be at least 1");
  check(p.max_gpus >= 1 && p.max_gpus <= p.max_nodes * p.gpus_per_node, "max_gpus",
        "must be between 1 and max_nodes x gpus_per_node");
  check(p.cores_per_gpu >= 1, "cores_per_gpu", "must be at least 1");
  check(p.mem_per_gpu_mb >= 1, "mem_per_gpu", "must be at least 1M");
  check(p.charge_factor >= 0, "charge_factor", "must not be negative");
  check(p.max_jobs >= 0 && p.max_running >= 0 && p.max_user_gpus >= 0, "max_jobs",
        "max_jobs, max_running and max_user_gpus must not be negative (0: no limit)");
  check(p.node_cores == 0 || p.node_cores >= p.cores_per_gpu * p.gpus_per_node, "node_cores",
        "must be at least cores_per_gpu x gpus_per_node (0: that product)");
  check(p.node_mem_mb == 0 || p.node_mem_mb >= p.mem_per_gpu_mb * p.gpus_per_node, "node_mem",
        "must be at least mem_per_gpu x gpus_per_node (0: that product)");
  if (p.node_cores == 0) p.node_cores = p.cores_per_gpu * p.gpus_per_node;
  if (p.node_mem_mb == 0) p.node_mem_mb = p.mem_per_gpu_mb * p.gpus_per_node;
  return p;
}

}  // namespace

const Partition* ClusterProfile::find(const std::string& partition) const {
  for (const auto& p : partitions)
    if (p.name == partition) return &p;
  return nullptr;
}

ClusterProfile parse_cluster_profile(IniDoc doc) {
  ClusterProfile c;
  c.origin = doc.origin();
  doc.reject_unknown(known_keys());
  if (doc.require("cluster.name", "the cluster's name")) doc.read("cluster.name", c.name);
  doc.read("cluster.account", c.account);
  doc.read("cluster.account_placeholder", c.account_placeholder);
  if (doc.require("cluster.launcher", "the MPI launcher, e.g. 'srun --mpi=pmi2'")) doc.read("cluster.launcher", c.launcher);
  doc.read("cluster.gpu_bind", c.gpu_bind);
  if (c.gpu_bind != "task" && c.gpu_bind != "local-rank")
    doc.add_problem(doc.where("cluster.gpu_bind") + ": cluster.gpu_bind = '" + c.gpu_bind +
                    "': not one of task|local-rank");
  doc.read("cluster.sdn_command", c.sdn_command);
  doc.read_duration("cluster.startup", c.startup_s);
  doc.read_duration("cluster.requeue_gap", c.requeue_gap_s);
  doc.read("cluster.galyleo", c.galyleo);
  doc.read("cluster.sbatch_extra", c.sbatch_extra);
  doc.read("cluster.env", c.env);
  for (const auto& e : c.env)
    if (e.find('=') == std::string::npos || e.front() == '=')
      doc.add_problem(doc.where("cluster.env") + ": cluster.env item '" + e + "' is not KEY=VALUE");
  // [env] holds values with commas (UCX_TLS=shm,rc,ud,dc), which the comma list of cluster.env cannot.
  for (const auto& key : doc.keys())
    if (key.rfind("env.", 0) == 0) c.env.push_back(key.substr(4) + "=" + doc.raw(key));
  doc.read("modules.reset", c.module_reset);
  doc.read("modules.use", c.module_use);
  doc.read("modules.load", c.modules);
  doc.read("modules.jupyter", c.jupyter_modules);
  doc.read("paths.scratch", c.scratch_dir);
  doc.read("paths.project", c.project_dir);
  for (const auto& section : doc.sections_with_prefix("partition.")) c.partitions.push_back(read_partition(doc, section));
  if (c.partitions.empty())
    doc.add_problem(doc.origin() + ": no [partition.NAME] section (each needs at least max_walltime and gpus_per_node)");
  doc.throw_if_problems("cluster profile", "compare with configs/clusters/expanse.ini, which documents every key");
  return c;
}

std::string resolve_cluster_path(const std::string& name_or_path, const std::vector<std::string>& search_dirs) {
  bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                         (name_or_path.size() > 4 && name_or_path.compare(name_or_path.size() - 4, 4, ".ini") == 0);
  if (looks_like_path) {
    if (is_file(name_or_path)) return name_or_path;
    throw UsageError("cluster profile " + name_or_path + " does not exist",
                     "give a cluster name (expanse, local) or the path of a profile .ini");
  }
  std::string tried;
  for (const auto& dir : search_dirs) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + name_or_path + ".ini";
    if (is_file(p)) return p;
    tried += "\n    " + p;
  }
  throw UsageError("no cluster profile named '" + name_or_path + "'; looked at:" + tried,
                   "copy configs/clusters/expanse.ini to configs/clusters/" + name_or_path +
                       ".ini and edit it, or pass the path of a profile");
}

std::vector<std::string> default_cluster_dirs() {
  std::vector<std::string> dirs;
  if (const char* home = std::getenv("SDN_HOME"); home && *home) dirs.push_back(std::string(home) + "/configs/clusters");
  if (std::string(SDN_SOURCE_DIR).size()) dirs.push_back(std::string(SDN_SOURCE_DIR) + "/configs/clusters");
  return dirs;
}

ClusterProfile load_cluster_profile(const std::string& name_or_path) {
  return parse_cluster_profile(IniDoc::load(resolve_cluster_path(name_or_path, default_cluster_dirs())));
}

}  // namespace sdn::slurm

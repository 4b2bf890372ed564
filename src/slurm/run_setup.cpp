// Implements the candidate -> JobSpec / GalyleoSpec mapping (see run_setup.hpp).
#include "slurm/run_setup.hpp"

#include <algorithm>
#include <cstdio>

namespace sdn::slurm {

JobSpec make_job_spec(const ClusterProfile& cl, const Candidate& c, const JobChoices& ch) {
  const Partition* p = cl.find(c.shape.partition);
  JobSpec j;
  j.job_name = ch.job_name;
  j.run_dir = ch.run_dir;
  j.mode = ch.mode;
  j.reshape = ch.reshape;
  j.account = cl.account;
  j.partition = c.shape.partition;
  j.nodes = c.shape.nodes;
  j.gpus_per_node = c.shape.gpus_per_node;
  j.cpus_per_task = p ? p->cores_per_gpu : 1;
  j.mem_per_node_mb = p ? p->mem_per_gpu_mb * c.shape.gpus_per_node : 0;
  j.walltime_s = c.shape.walltime_s;
  j.grace_s = c.grace_s;
  j.gpu_bind = cl.gpu_bind;
  j.max_chunks = ch.max_chunks;
  j.module_reset = cl.module_reset;
  j.module_use = cl.module_use;
  j.modules = cl.modules;
  j.env = cl.env;
  j.sbatch_extra = cl.sbatch_extra;
  j.launcher = cl.launcher;
  j.sdn_command = ch.sdn_command;
  j.train_command = ch.train_command;
  j.pipeline_dir = ch.pipeline_dir;
  j.pipeline_node = ch.pipeline_node;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s, %lld steps, %d chunk(s) planned, %.1f images/s, accumulation %d",
                ch.stage.c_str(), (long long)ch.total_steps, c.chunks, c.images_per_s, c.accumulation);
  j.summary = buf;
  return j;
}

GalyleoSpec make_galyleo_spec(const ClusterProfile& cl, const Candidate& c, const std::string& run_dir) {
  const Partition* p = cl.find(c.shape.partition);
  GalyleoSpec g;
  if (!cl.galyleo.empty()) g.galyleo = cl.galyleo;
  g.account = cl.account;
  g.partition = c.shape.partition;
  g.gpus = p && p->exclusive ? p->gpus_per_node : 1;
  g.cpus = (p ? p->cores_per_gpu : 1) * g.gpus;
  g.memory_gb = p ? static_cast<int>(p->mem_per_gpu_mb * g.gpus / 1024) : 0;
  g.time_limit_s = std::min<std::int64_t>(3600, p ? p->max_walltime_s : 3600);
  g.modules = cl.modules;
  g.modules.insert(g.modules.end(), cl.jupyter_modules.begin(), cl.jupyter_modules.end());
  if (!cl.module_use.empty()) g.modules.push_back("sdn");
  g.module_paths = cl.module_use;
  g.notebook_dir = !cl.project_dir.empty() ? cl.project_dir : run_dir;
  return g;
}

}  // namespace sdn::slurm

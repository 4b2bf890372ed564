// From a chosen candidate to the concrete job script and notebook specs: the partition's cores and memory per
// GPU, the profile's modules, launcher and binding. Pure, shared by `sdn plan` and the golden tests.
#pragma once

#include <string>

#include "slurm/cluster_profile.hpp"
#include "slurm/galyleo.hpp"
#include "slurm/job_script.hpp"
#include "slurm/plan.hpp"

namespace sdn::slurm {

struct JobChoices {
  std::string mode = "requeue";
  bool reshape = false;
  std::string run_dir;        // absolute
  std::string job_name;
  int max_chunks = 3;
  std::string sdn_command;    // resolved (profile value, override or this executable)
  std::string train_command;  // empty: "<sdn> train"
  std::string stage;
  std::int64_t total_steps = 0;
  std::string pipeline_dir;   // a pipeline stage: the gate's pipeline and node (empty: a plain run)
  std::string pipeline_node;
};

JobSpec make_job_spec(const ClusterProfile& cluster, const Candidate& chosen, const JobChoices& choices);

// A notebook on the chosen partition: 1 GPU (a whole node on exclusive partitions, which bill it anyway),
// the partition's cores and memory for it, at most one hour, the profile's modules plus the sdn module.
GalyleoSpec make_galyleo_spec(const ClusterProfile& cluster, const Candidate& chosen, const std::string& run_dir);

}  // namespace sdn::slurm

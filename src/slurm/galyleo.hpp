// The `galyleo launch ...` command (SDSC's Jupyter launcher) for a notebook on the run's partition with the
// suite's modules, for inspecting runs. galyleo itself forbids requeue, so it never runs training chunks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::slurm {

struct GalyleoSpec {
  std::string galyleo = "galyleo";  // executable (on Expanse: /cm/shared/apps/sdsc/galyleo/galyleo)
  std::string account;
  std::string partition;
  int cpus = 1;
  int memory_gb = 0;               // 0: galyleo omits --mem
  int gpus = 1;
  std::int64_t time_limit_s = 3600;
  std::vector<std::string> modules;      // --env-modules (after galyleo's own `module reset`)
  std::vector<std::string> module_paths;  // `module use` on the login node (galyleo's module check) + --append-modulepath
  std::string notebook_dir;
  std::string interface = "lab";
};

std::vector<std::string> validate_galyleo(const GalyleoSpec& spec);

// One shell command line ("module use P && galyleo launch ..."), arguments quoted where needed ($USER in paths expands in the user's shell). Precondition: validate_galyleo(spec) is empty.
std::string render_galyleo(const GalyleoSpec& spec);

}  // namespace sdn::slurm

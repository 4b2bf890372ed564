// Renders the galyleo command (flags as parsed by galyleo.sh `launch`; see docs/expanse.md).
#include "slurm/galyleo.hpp"

#include "core/parse.hpp"
#include "slurm/job_script.hpp"

namespace sdn::slurm {

std::vector<std::string> validate_galyleo(const GalyleoSpec& s) {
  std::vector<std::string> e;
  if (s.account.empty()) e.push_back("galyleo needs an account (--account): every job must be charged to one");
  if (s.partition.empty()) e.push_back("galyleo needs a partition");
  if (s.cpus < 1 || s.gpus < 0 || s.memory_gb < 0) e.push_back("galyleo cpus must be >= 1, gpus and memory >= 0");
  if (s.time_limit_s < 60) e.push_back("galyleo time limit must be at least one minute");
  if (s.interface != "lab" && s.interface != "notebook" && s.interface != "voila")
    e.push_back("galyleo interface '" + s.interface + "' is not lab|notebook|voila");
  return e;
}

std::string render_galyleo(const GalyleoSpec& s) {
  std::vector<std::string> a = {shell_quote(s.galyleo), "launch",
                                "--account", shell_quote(s.account),
                                "--partition", shell_quote(s.partition),
                                "--cpus", std::to_string(s.cpus)};
  if (s.memory_gb > 0) a.insert(a.end(), {"--memory", std::to_string(s.memory_gb)});
  if (s.gpus > 0) a.insert(a.end(), {"--gpus", std::to_string(s.gpus)});
  a.insert(a.end(), {"--time-limit", parse::format_walltime(s.time_limit_s), "--interface", s.interface});
  if (!s.module_paths.empty()) a.insert(a.end(), {"--append-modulepath", shell_quote_expand(parse::join(s.module_paths, ","))});
  if (!s.modules.empty()) a.insert(a.end(), {"--env-modules", shell_quote(parse::join(s.modules, ","))});
  if (!s.notebook_dir.empty()) a.insert(a.end(), {"--notebook-dir", shell_quote_expand(s.notebook_dir)});
  // galyleo checks each --env-modules item with `module load` on the login node, before --append-modulepath
  // applies (that one only reaches the job): the login shell needs the path too, so the command is run as printed.
  std::string use;
  for (const auto& p : s.module_paths) use += "module use " + shell_quote_expand(p) + " && ";
  return use + parse::join(a, " ");
}

}  // namespace sdn::slurm

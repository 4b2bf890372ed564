// `sdn cluster up|down|status`: the embedded single-node Slurm (slurm/local_cluster.hpp), and
// `sdn cluster modulefiles`: write the sdn modulefiles (Lua + Tcl) and the dependency set of a cluster profile.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/options.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/local_cluster.hpp"
#include "slurm/modulefile.hpp"
#include "slurm/run_dir.hpp"

namespace sdn::cli {
namespace {

using namespace sdn::slurm;

struct ClusterConfig {
  std::string action;
  LocalClusterSpec spec;
  int port = 0;
  bool clean = false;
  std::string profile = "expanse";
  std::string out = "env-modules";
  std::string root;
  std::string bin_subdir = "build-expanse/src/cli";
};

opt::Schema<ClusterConfig> cluster_schema() {
  opt::Schema<ClusterConfig> s(
      "cluster", "The embedded single-node Slurm cluster (munge, slurmctld, slurmd; fake GPUs; Expanse-like partitions).\n"
                 "  up:          start it (idempotent); prints how to use it\n"
                 "  down:        cancel its jobs and stop it\n"
                 "  status:      daemons, partitions, queue\n"
                 "  modulefiles: write Lmod/Tcl modulefiles for sdn and the profile's dependency modules to --out");
  s.add("action", "up | down | status | modulefiles", [](ClusterConfig& c) -> auto& { return c.action; },
        opt::Choices{"up", "down", "status", "modulefiles"})
      .positional("action")
      .add("dir", "state directory (config, logs, sockets, spool)", [](ClusterConfig& c) -> auto& { return c.spec.dir; })
      .add("port", "slurmctld port; slurmd uses port+1 (0: derived from --dir)", [](ClusterConfig& c) -> auto& { return c.port; },
           opt::Range{0, 65534})
      .add("cpus", "CPUs the node advertises", [](ClusterConfig& c) -> auto& { return c.spec.cpus; }, opt::Range{1, 4096})
      .add("memory-mb", "memory the node advertises (MB)", [](ClusterConfig& c) -> auto& { return c.spec.memory_mb; },
           opt::Range{100, 1e9})
      .add("gpus", "fake GPUs", [](ClusterConfig& c) -> auto& { return c.spec.gpus; }, opt::Range{1, 64})
      .add("cred-expire", "seconds; a requeued job is eligible again after this + 1 s",
           [](ClusterConfig& c) -> auto& { return c.spec.cred_expire_s; }, opt::Range{5, 3600})
      .add("clean", "up: forget jobs and node state of an earlier up", [](ClusterConfig& c) -> auto& { return c.clean; })
      .add("profile", "modulefiles: cluster profile whose modules sdn depends on", [](ClusterConfig& c) -> auto& { return c.profile; })
      .add("out", "modulefiles: module directory to write (then `module use` it)", [](ClusterConfig& c) -> auto& { return c.out; })
      .add("root", "modulefiles: sdn checkout/install root (empty: located from the modulefile's path)",
           [](ClusterConfig& c) -> auto& { return c.root; })
      .add("bin-subdir", "modulefiles: directory of the sdn binary, relative to the root",
           [](ClusterConfig& c) -> auto& { return c.bin_subdir; });
  return s;
}

std::vector<std::string> validate(const ClusterConfig& c) {
  std::vector<std::string> e;
  if (c.action.empty()) e.push_back("action: required (up, down, status or modulefiles)");
  if (c.spec.dir.empty() || c.spec.dir.find_first_of(" \t'\"") != std::string::npos)
    e.push_back("dir: must be a path without spaces or quotes (it is written into slurm.conf)");
  return e;
}

// The sdn module, its Tcl twin and the profile's dependency set (loaded by the sdn module).
int write_modulefiles(const ClusterConfig& c) {
  ClusterProfile profile = load_cluster_profile(c.profile);
  ModuleSpec deps;
  deps.name = "sdn-deps";
  deps.version = profile.name;
  deps.description = "modules sdn is built and run with on " + profile.name;
  deps.help = {"Loads the module set sdn was built with on " + profile.name + ":", "  " + parse::join(profile.modules, " "),
               "Generated from configs/clusters/" + profile.name + ".ini."};
  deps.depends = profile.modules;
  ModuleSpec sdn;
  sdn.name = "sdn";
  sdn.version = SDN_VERSION;
  sdn.description = "3D-SDN training suite: vKITTI data, distributed training, checkpoints, Slurm driver";
  sdn.help = {"sdn " + std::string(SDN_VERSION) + ": plan, submit and follow 3D-SDN training on Slurm.",
              "  sdn plan --cluster " + profile.name + " --stage STAGE.ini --run-dir RUN --it-per-s X",
              "  sdn submit RUN; sdn status RUN", "Sets SDN_HOME and PATH; loads sdn-deps/" + profile.name + "."};
  sdn.root = c.root;
  sdn.bin_subdir = c.bin_subdir;
  sdn.depends = {"sdn-deps/" + profile.name};
  sdn.setenv = {{"SDN_CLUSTER", profile.name}};
  const std::string out = absolute_path(c.out);
  fs::ensure_writable_dir(out + "/sdn");
  fs::ensure_writable_dir(out + "/sdn-deps");
  fs::write_atomic(out + "/sdn/" + sdn.version + ".lua", render_modulefile_lua(sdn));
  fs::write_atomic(out + "/sdn-deps/" + profile.name + ".lua", render_modulefile_lua(deps));
  // Tcl twins live in their own tree: Lmod prefers .lua when both sit side by side, Environment Modules reads Tcl only.
  fs::ensure_writable_dir(out + "/tcl/sdn");
  fs::ensure_writable_dir(out + "/tcl/sdn-deps");
  fs::write_atomic(out + "/tcl/sdn/" + sdn.version, render_modulefile_tcl(sdn));
  fs::write_atomic(out + "/tcl/sdn-deps/" + profile.name, render_modulefile_tcl(deps));
  std::printf("wrote %s/{sdn,sdn-deps} (Lua) and %s/tcl/ (Tcl)\n  module use %s && module load sdn\n", out.c_str(),
              out.c_str(), out.c_str());
  return kExitOk;
}

}  // namespace

int run_cluster(const Args& args) {
  auto parsed = parse_command(cluster_schema(), args, validate);
  if (!parsed) return kExitOk;
  ClusterConfig c = *parsed;
  if (c.action == "modulefiles") return write_modulefiles(c);
  c.spec.dir = absolute_path(c.spec.dir);
  c.spec.ctld_port = c.port;
  const LocalClusterSpec spec = resolve_spec(c.spec);
  if (c.action == "up") {
    std::fputs(cluster_up(spec, c.clean).c_str(), stdout);
  } else if (c.action == "down") {
    std::fputs(cluster_down(spec).c_str(), stdout);
  } else {
    std::string report;
    bool up = cluster_status(spec, report);
    std::printf("local cluster in %s: %s\n%s", spec.dir.c_str(), up ? "up" : "down", report.c_str());
    return up ? kExitOk : kExitFailure;
  }
  return kExitOk;
}

}  // namespace sdn::cli

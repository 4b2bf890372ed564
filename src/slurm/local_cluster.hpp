// The embedded single-node Slurm cluster (`sdn cluster up|down|status`): munged with its own key, socket and pid
// file, slurmctld and slurmd from Debian's packages, all state under one directory with its own ports, so
// several clusters (tests, demo) never collide and nothing outside the directory is written.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sdn::slurm {

struct LocalClusterSpec {
  std::string dir = "/tmp/sdn-cluster";  // absolute
  std::string cluster_name = "sdnlocal";
  std::string host;                      // `hostname -s`
  std::string user;                      // runs the daemons (root on CI)
  int ctld_port = 0;                     // 0: derived from dir
  int slurmd_port = 0;
  int cpus = 8;
  std::int64_t memory_mb = 8000;
  int gpus = 4;
  int cred_expire_s = 10;
};

// The embedded templates (generated templates.cpp).
const char* slurm_conf_template();
const char* gres_conf_template();

// Replaces every @NAME@ with values[NAME]; throws Error naming any placeholder without a value. Pure.
std::string render_template(const std::string& text, const std::map<std::string, std::string>& values);

// Fills in host, user and the ports (derived from the directory when 0) from the running system.
LocalClusterSpec resolve_spec(LocalClusterSpec spec);

// The placeholder values for a resolved spec. Pure.
std::map<std::string, std::string> template_values(const LocalClusterSpec& spec);

// The commands a user runs to talk to the cluster.
std::string usage_text(const LocalClusterSpec& spec);

// Starts what is not running (idempotent). Returns a report for the user. Throws Error with the daemon's log tail.
std::string cluster_up(const LocalClusterSpec& spec, bool clean_state);
// Cancels every job, then stops slurmd, slurmctld and munged. Safe when nothing runs.
std::string cluster_down(const LocalClusterSpec& spec);
// Daemon pids, sinfo and squeue. Returns true if all three daemons run.
bool cluster_status(const LocalClusterSpec& spec, std::string& report);

}  // namespace sdn::slurm

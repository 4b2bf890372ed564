// Environment-module files for sdn and its dependency set, as Lmod Lua and as Tcl (its twin for sites running
// Environment Modules). Pure text rendering, golden-tested (tests/golden/*.lua, *.tcl).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sdn::slurm {

struct ModuleSpec {
  std::string name;         // "sdn" or "sdn-deps"
  std::string version;      // "0.1.0" or the cluster name
  std::string description;  // one line (whatis)
  std::vector<std::string> help;  // lines of `module help`
  // The install root; empty means "locate it from the modulefile's own path": the file lives at
  // ROOT/env-modules/[tcl/]<name>/<version>[.lua], so a checkout works after `module use ROOT/env-modules`.
  std::string root;
  std::string bin_subdir;   // relative to root, prepended to PATH (empty: no PATH change, no SDN_HOME)
  std::vector<std::string> depends;  // modules loaded with this one (Lua depends_on / Tcl module load)
  std::vector<std::pair<std::string, std::string>> setenv;  // extra variables
};

std::string render_modulefile_lua(const ModuleSpec& spec);
std::string render_modulefile_tcl(const ModuleSpec& spec);

}  // namespace sdn::slurm

// The command table (see commands.hpp). Add a command here and in commands.hpp.
#include "cli/commands.hpp"

namespace sdn::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"synth", "write a synthetic dataset in the vKITTI 1.3.1 or 2.0.3 layout", run_synth},
      {"pack", "pack a vKITTI tree (either layout) into HDF5 shards", run_pack},
      {"bench", "benchmarks: loader", run_bench},
  };
  return table;
}

}  // namespace sdn::cli

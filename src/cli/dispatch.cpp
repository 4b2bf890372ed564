// Implements command dispatch and the single place where errors become exit codes (see dispatch.hpp).
#include "cli/dispatch.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/options.hpp"

namespace sdn::cli {
namespace {

void print_overview() {
  std::printf("usage: sdn <command> [--config FILE.ini] [options]\n\n"
              "3D-SDN training suite: vKITTI data, distributed training, checkpoints, Slurm.\n\ncommands:\n");
  for (const auto& c : commands()) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\n'sdn <command> --help' lists every option of a command with its default.\n"
              "exit codes: 0 done, 1 failure, 2 bad usage/config, 3 stopped early with a valid checkpoint\n");
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    print_overview();
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string name = argv[1];
  if (name == "--version") {
    std::printf("sdn %s\n", SDN_VERSION);
    return kExitOk;
  }
  Args args(argv + 2, argv + argc);
  for (const auto& c : commands()) {
    if (name != c.name) continue;
    try {
      return c.run(args);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "sdn %s: %s\n", c.name, e.what());
      return kExitUsage;
    } catch (const std::exception& e) {
      spdlog::error("sdn {}: {}", c.name, e.what());
      return kExitFailure;
    }
  }
  std::vector<std::string> names;
  for (const auto& c : commands()) names.emplace_back(c.name);
  auto guess = opt::closest_key(name, names);
  std::fprintf(stderr, "sdn: unknown command '%s'%s\n  hint: 'sdn --help' lists the commands\n", name.c_str(),
               guess.empty() ? "" : (" (did you mean '" + guess + "'?)").c_str());
  return kExitUsage;
}

}  // namespace sdn::cli

// `sdn ckpt inspect FILE` prints a checkpoint's metadata; `sdn ckpt verify FILE...` checks every dataset's
// CRC-32 and exits 1 if any file is damaged.
#include <cstdio>

#include "ckpt/checkpoint.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"

namespace sdn::cli {

int run_ckpt(const Args& args) {
  const std::string usage =
      "usage: sdn ckpt inspect FILE       print the metadata of a checkpoint\n"
      "       sdn ckpt verify FILE...     check every dataset's CRC-32 (exit 1 if any file is damaged)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage.c_str(), stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args.size() < 2) throw UsageError("sdn ckpt " + args[0] + ": a checkpoint file is required", usage);
  if (args[0] == "inspect") {
    for (size_t i = 1; i < args.size(); ++i) {
      auto meta = ckpt::read_meta(args[i]);
      std::printf("%s\n%s", args[i].c_str(), ckpt::describe(meta).c_str());
    }
    return kExitOk;
  }
  if (args[0] == "verify") {
    int bad = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      auto problems = ckpt::verify_checkpoint(args[i]);
      if (problems.empty()) {
        std::printf("%s: OK\n", args[i].c_str());
      } else {
        ++bad;
        std::printf("%s: DAMAGED\n", args[i].c_str());
        for (const auto& p : problems) std::printf("  - %s\n", p.c_str());
      }
    }
    return bad == 0 ? kExitOk : kExitFailure;
  }
  throw UsageError("unknown subcommand 'sdn ckpt " + args[0] + "'", usage);
}

}  // namespace sdn::cli

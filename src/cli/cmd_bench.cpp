// `sdn bench <name>`: side-by-side benchmarks whose ratios go into bench/RESULTS.md.
// Each benchmark lives in its own bench_*.cpp and is listed in the table below.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"

namespace sdn::cli {
namespace {

struct Bench {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

const Bench kBenches[] = {
    {"loader", "frames/s from HDF5 shards vs decoding the PNG/JPEG tree, one core each", bench_loader},
    {"reduce", "gradient all-reduce: bucketed reducer vs one MPI_Allreduce vs per tensor (run under mpirun -np 2)", bench_reduce},
    {"step", "train step per image: C++ trainer step vs Python PyTorch (--ranks-compare: 1 vs 2 ranks)", bench_step},
    {"ckpt", "checkpoint save/load MB/s vs dd vs torch.save/load; stop latency; checkpoint overhead", bench_ckpt},
    {"chain", "chained run (time-limited jobs) wall time vs uninterrupted; steps lost per chunk", bench_chain},
    {"render", "derenderer renderer: 384^2 renders/s, silhouette fwd and fwd+bwd, depth+normal maps", bench_render},
};

}  // namespace

int run_bench(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("usage: sdn bench <name> [options]   ('sdn bench <name> --help' for its options)\n\nbenchmarks:\n");
    for (const auto& b : kBenches) std::printf("  %-8s %s\n", b.name, b.summary);
    return args.empty() ? kExitUsage : kExitOk;
  }
  for (const auto& b : kBenches)
    if (args[0] == b.name) return b.run(Args(args.begin() + 1, args.end()));
  throw UsageError("unknown benchmark '" + args[0] + "'", "'sdn bench --help' lists them");
}

}  // namespace sdn::cli

// `sdn bench chain`: what running in time-limited jobs cost. Reads a completed chunked run and an
// uninterrupted run of the same steps (their journals) and prints the per-chunk table and the ratio of the
// chained wall time (queue waits excluded) to the uninterrupted one, plus the steps lost per chunk.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/exit_codes.hpp"
#include "core/journal.hpp"
#include "core/options.hpp"
#include "slurm/chain_report.hpp"

namespace sdn::cli {
namespace {

struct BenchChainConfig {
  std::string run;
  std::string reference;
};

opt::Schema<BenchChainConfig> schema() {
  opt::Schema<BenchChainConfig> s("bench chain",
                                  "Chained wall time (queue waits excluded) / uninterrupted wall time, steps lost "
                                  "per chunk. Example: the run and reference of tests/slurm/test_train_chunks.sh.");
  s.add("run", "completed run directory trained in time-limited jobs (sdn submit)",
        [](BenchChainConfig& c) -> auto& { return c.run; })
      .add("reference", "run directory of one uninterrupted `sdn train` of the same stage",
           [](BenchChainConfig& c) -> auto& { return c.reference; });
  return s;
}

slurm::RunState summary_of(const std::string& run_dir) {
  return slurm::summarize(journal::read(journal::path_in(run_dir)).events);
}

}  // namespace

int bench_chain(const Args& args) {
  auto parsed = parse_command(schema(), args, [](const BenchChainConfig& c) {
    std::vector<std::string> e;
    if (c.run.empty()) e.push_back("run: required");
    if (c.reference.empty()) e.push_back("reference: required");
    return e;
  });
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  auto report = slurm::chain_report(summary_of(c.run), summary_of(c.reference), journal::path_in(c.run),
                                    journal::path_in(c.reference));
  std::fputs(slurm::format_chain_report(report).c_str(), stdout);
  return kExitOk;
}

}  // namespace sdn::cli

// Per-op CPU profile for the benchmarks: runs a callable under LibTorch's autograd profiler (the legacy,
// RecordFunction-based one: every ATen op and autograd node is a range) and prints a table of self and total
// CPU time per op name, sorted by self time, in the columns torch.profiler's key_averages().table() prints.
#pragma once

#include <functional>
#include <string>

namespace sdn::cli::bench {

// Runs `fn` once under the profiler; returns the table (at most `rows` op names, plus a total line).
std::string profile_ops(const std::function<void()>& fn, int rows);

}  // namespace sdn::cli::bench

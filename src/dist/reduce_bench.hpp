// The measurement behind `sdn bench reduce`: all-reduce time of gradients of given sizes through the
// bucketed reducer, one MPI_Allreduce of the same bytes (the limit) and one all-reduce per tensor, and how
// much of the reducer's time hides behind a simulated backward. Collective; the CLI only formats the table.
// Lives in dist/ so it runs wherever the dist layer builds (also on GPU nodes without the CLI's deps).
#pragma once

#include <cstdint>
#include <vector>

#include "dist/gradient_reducer.hpp"
#include "dist/mpi_session.hpp"

namespace sdn::dist {

struct ReduceBenchOptions {
  int64_t bucket_cap_bytes = kDefaultBucketCapBytes;
  int64_t first_bucket_cap_bytes = kDefaultFirstBucketCapBytes;
  std::vector<MpiProgress> modes = {MpiProgress::kNonblocking, MpiProgress::kThread};
  int iters = 10;               // timed repetitions; medians are reported
  int warmup = 2;               // untimed repetitions first
  double compute_seconds = 0.3;  // simulated backward for the overlap measurement; 0 skips it
  bool spin = false;            // true: the backward keeps its core busy (CPU training); false: sleeps (GPU-like)
  bool also_copying = false;    // also time the copying path (grad_as_bucket_view = false) of every mode
  // Rounds of [single all-reduce, every mode] in turn: a load change on a shared machine then hits the limit
  // and the reducer alike, and each mode's ratio is the median of its per-round ratios.
  int rounds = 1;
};

struct ReduceBenchResult {
  double bytes = 0;               // float32 gradient bytes per rank
  double single_seconds = 0;      // one MPI_Allreduce of all bytes (median over rounds)
  double per_tensor_seconds = 0;  // one MPI_Allreduce per tensor, in sequence
  struct Mode {
    MpiProgress mode = MpiProgress::kAuto;
    bool views = true;           // gradients as bucket views (false: the copying path)
    double added_seconds = 0;   // what the reducer adds to an instant backward (pack, reduce, unpack)
    double hidden_seconds = -1;  // of it, hidden behind the simulated backward (-1: not measured)
    double hideable_seconds = 0;  // the most that could hide: min(backward, reduction)
    double ratio = 0;             // median over rounds of single_seconds / added_seconds (1: as fast as the limit)
    std::vector<double> round_ratios;
  };
  std::vector<Mode> modes;
  // Progress probe on one bucket-sized message: start the all-reduce, sleep twice its blocking duration
  // without calling MPI, then wait. The fraction already done when the sleep ends shows whether the
  // mode progresses on its own (1) or only inside MPI calls (0).
  double probe_bytes = 0;
  double probe_blocking_seconds = 0;
  double probe_done_nonblocking = -1;  // -1: not measured
  double probe_done_thread = -1;
};

// Times are the slowest rank's, medians over `iters`. Throws sdn::Error if the reducer's average is wrong
// (every rank contributes rank + 1, so the average is known exactly).
ReduceBenchResult run_reduce_bench(const Communicator& comm, const std::vector<int64_t>& numels,
                                   const ReduceBenchOptions& options);

}  // namespace sdn::dist

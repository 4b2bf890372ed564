// MpiReducer: the GradientReducer backend for CPU tensors. Each bucket is one in-place MPI all-reduce
// (SUM) of its flat buffer on a private duplicate of the communicator.
// Two ways to make progress while backward computes (measured by `sdn bench reduce`, see docs/dist.md):
//   kNonblocking: MPI_Iallreduce, nudged with MPI_Test from every gradient hook; needs only FUNNELED,
//                 but Open MPI without an async progress thread advances it only inside MPI calls, so
//                 almost nothing overlaps (measured: 3% of the reduction hidden behind a backward).
//   kThread:      a communication thread runs blocking MPI_Allreduce in bucket order; progresses on its
//                 own whenever a core is free, but needs MPI_THREAD_MULTIPLE (SyncBN sums run on the
//                 main thread meanwhile). The default (kAuto) whenever MPI provides that level.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dist/gradient_reducer.hpp"
#include "dist/mpi_session.hpp"
#include "dist/watchdog.hpp"

namespace sdn::dist {

// "auto" | "nonblocking" | "thread" -> MpiProgress; throws UsageError naming the accepted values.
MpiProgress parse_mpi_progress(const std::string& text);
const char* to_string(MpiProgress progress);

class MpiReducer final : public GradientReducer {
 public:
  // Collective over `comm`. Parameters must be CPU tensors of float/double.
  MpiReducer(std::vector<NamedTensor> params, const ReducerOptions& options, const Communicator& comm);
  ~MpiReducer() override;
  const char* backend() const override { return progress_ == MpiProgress::kThread ? "mpi-thread" : "mpi"; }

 private:
  struct Worker;
  void start(size_t bucket, torch::Tensor& flat) override;
  void wait(size_t bucket, torch::Tensor& flat) override;
  void poke() override;

  MpiComm comm_;
  MpiProgress progress_;
  std::vector<MPI_Request> requests_;  // kNonblocking: one per bucket
  size_t started_ = 0;                 // kNonblocking: requests [0, started_) were started this step
  size_t oldest_open_ = 0;             // kNonblocking: first request not known to be complete
  std::shared_ptr<Worker> worker_;     // kThread
  // kNonblocking: the watchdog entry of each in-flight request (armed at start, disarmed after MPI_Wait).
  std::vector<std::pair<std::shared_ptr<Watchdog>, std::uint64_t>> watches_;
};

}  // namespace sdn::dist

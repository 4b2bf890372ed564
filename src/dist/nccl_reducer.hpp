// NcclReducer: the GradientReducer backend for CUDA tensors (compiled only with SDN_WITH_NCCL).
// Each bucket is one in-place ncclAllReduce (SUM) on the reducer's own high-priority stream. Ordering uses
// events only, never a host synchronisation per bucket:
//   compute stream --record(ready[b])--> comm stream waits --> ncclAllReduce --record(done[b])-->
//   compute stream waits on done[b] in finish() before the averaged gradients are copied back.
#pragma once

#include <memory>
#include <vector>

#include "dist/cuda_handles.hpp"
#include "dist/gradient_reducer.hpp"
#include "dist/mpi_session.hpp"
#include "dist/nccl_comm.hpp"
#include "dist/watchdog.hpp"

namespace sdn::dist {

class NcclReducer final : public GradientReducer {
 public:
  // Collective over `comm`. Parameters must be CUDA tensors on one device.
  NcclReducer(std::vector<NamedTensor> params, const ReducerOptions& options, const Communicator& comm);
  ~NcclReducer() override;
  const char* backend() const override { return "nccl"; }

 private:
  void start(size_t bucket, torch::Tensor& flat) override;
  void wait(size_t bucket, torch::Tensor& flat) override;
  void begin_group() override;
  void end_group() override;
  void watch(size_t bucket);  // registers the bucket's completion event with the collective watchdog

  int device_ = 0;
  std::unique_ptr<NcclComm> nccl_;
  CudaStream stream_;
  std::vector<CudaEvent> ready_;  // compute -> comm: the bucket's gradients are packed
  std::vector<CudaEvent> done_;   // comm -> compute: the bucket's sum is complete
  bool grouped_ = false;
  std::vector<size_t> group_;     // buckets issued inside the open NCCL group
  // Watchdog entry per bucket: done_[b] polled by the watchdog thread; a timeout aborts the communicator.
  std::vector<std::pair<std::shared_ptr<Watchdog>, std::uint64_t>> watches_;
};

}  // namespace sdn::dist

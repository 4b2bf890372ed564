// Implements NcclReducer (see nccl_reducer.hpp).
#include "dist/nccl_reducer.hpp"

#include <c10/cuda/CUDAStream.h>

#include "core/error.hpp"

namespace sdn::dist {
namespace {

int device_of(const std::vector<NamedTensor>& params) {
  for (const auto& p : params)
    if (p.tensor.defined() && p.tensor.requires_grad()) {
      if (!p.tensor.is_cuda())
        throw Error("the NCCL reducer reduces CUDA tensors, but '" + p.name + "' is on " + p.tensor.device().str());
      return p.tensor.device().index();
    }
  int current = 0;
  SDN_CUDA_CHECK(cudaGetDevice(&current));
  return current;
}

}  // namespace

NcclReducer::NcclReducer(std::vector<NamedTensor> params, const ReducerOptions& options, const Communicator& comm)
    : GradientReducer(params, options, comm.comm()),
      device_(device_of(params)),
      nccl_(std::make_unique<NcclComm>(comm.comm(), device_)),
      stream_(device_),
      watches_(bucket_count()) {
  for (size_t b = 0; b < bucket_count(); ++b) {
    ready_.emplace_back(device_);
    done_.emplace_back(device_);
  }
}

NcclReducer::~NcclReducer() {
  detach_hooks();
  // Before the events and the communicator the entries point to go away.
  for (auto& [watchdog, token] : watches_)
    if (watchdog) watchdog->disarm(token);
  bool busy = false;
  for (size_t b = 0; b < bucket_count(); ++b) busy = busy || in_flight(b);
  if (busy) {
    // Error path: peers may never join; aborting the communicator also stops kernels that wait for them.
    nccl_->mark_failed();
  } else {
    // The flat buffers are freed after this; nothing may still use them on the comm stream.
    cudaStreamSynchronize(stream_.get());
  }
}

void NcclReducer::start(size_t bucket, torch::Tensor& flat) {
  // The hook runs on the autograd thread of this device, whose current stream produced the gradients and
  // the packing copies: the comm stream waits for exactly that work, and the host never blocks.
  const cudaStream_t compute = c10::cuda::getCurrentCUDAStream(device_).stream();
  ready_[bucket].record(compute);
  SDN_CUDA_CHECK(cudaStreamWaitEvent(stream_.get(), ready_[bucket].get(), 0));
  SDN_NCCL_CHECK(ncclAllReduce(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()),
                               nccl_type(flat.scalar_type(), "gradient bucket"), ncclSum, nccl_->get(),
                               stream_.get()));
  if (grouped_) {
    group_.push_back(bucket);  // inside a group the kernel is only enqueued at ncclGroupEnd
  } else {
    done_[bucket].record(stream_.get());
    watch(bucket);
  }
}

void NcclReducer::watch(size_t bucket) {
  auto& [watchdog, token] = watches_[bucket];
  if (watchdog) watchdog->disarm(token);  // the previous step's entry: its event is re-recorded now
  watchdog = installed_watchdog();
  if (!watchdog) return;
  // Device work never blocks the host here; the host blocks later, somewhere else. So the watchdog polls the
  // completion event itself, and on a timeout aborts the communicator so the stuck kernel returns.
  const cudaEvent_t event = done_[bucket].get();
  NcclComm* comm = nccl_.get();
  token = watchdog->arm_async("ncclAllReduce of " + describe_bucket(bucket),
                              [event] { return cudaEventQuery(event) != cudaErrorNotReady; },
                              [comm] { comm->abort_now(); });
}

void NcclReducer::begin_group() {
  // Buckets started together by finish() become one fused NCCL launch.
  SDN_NCCL_CHECK(ncclGroupStart());
  grouped_ = true;
  group_.clear();
}

void NcclReducer::end_group() {
  grouped_ = false;
  SDN_NCCL_CHECK(ncclGroupEnd());
  for (size_t b : group_) {
    done_[b].record(stream_.get());
    watch(b);
  }
  group_.clear();
}

void NcclReducer::wait(size_t bucket, torch::Tensor& /*flat*/) {
  const cudaStream_t compute = c10::cuda::getCurrentCUDAStream(device_).stream();
  SDN_CUDA_CHECK(cudaStreamWaitEvent(compute, done_[bucket].get(), 0));
}

}  // namespace sdn::dist

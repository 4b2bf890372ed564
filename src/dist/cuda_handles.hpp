// RAII owners of the CUDA handles the NCCL reducer needs, and SDN_CUDA_CHECK (file:line, rank/host and
// cudaGetErrorString). Compiled only with SDN_WITH_NCCL.
#pragma once

#include <cuda_runtime_api.h>

#include "core/error.hpp"

#define SDN_CUDA_CHECK(expr)                                                                         \
  do {                                                                                               \
    const cudaError_t sdn_cuda_rc_ = (expr);                                                         \
    if (sdn_cuda_rc_ != cudaSuccess)                                                                 \
      ::sdn::throw_api_error("CUDA", #expr, __FILE__, __LINE__, cudaGetErrorString(sdn_cuda_rc_)); \
  } while (0)

namespace sdn::dist {

// Makes `device` current for the scope (handles belong to the device current at creation).
class CudaDeviceScope {
 public:
  explicit CudaDeviceScope(int device);
  ~CudaDeviceScope();
  CudaDeviceScope(const CudaDeviceScope&) = delete;
  CudaDeviceScope& operator=(const CudaDeviceScope&) = delete;

 private:
  int previous_ = 0;
};

// A non-blocking stream of the highest priority: communication kernels are scheduled ahead of queued
// compute, so a bucket's all-reduce starts as soon as its event fires.
class CudaStream {
 public:
  explicit CudaStream(int device);
  ~CudaStream();
  CudaStream(CudaStream&& other) noexcept;
  CudaStream& operator=(CudaStream&&) = delete;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// An event without timing (cheaper to record and wait on); used only to order streams.
class CudaEvent {
 public:
  explicit CudaEvent(int device);
  ~CudaEvent();
  CudaEvent(CudaEvent&& other) noexcept;
  CudaEvent& operator=(CudaEvent&&) = delete;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream);

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace sdn::dist

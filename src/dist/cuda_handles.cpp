// Implements the CUDA RAII handles (see cuda_handles.hpp). Destructors never throw: they run on error paths.
#include "dist/cuda_handles.hpp"

#include <utility>

namespace sdn::dist {

CudaDeviceScope::CudaDeviceScope(int device) {
  SDN_CUDA_CHECK(cudaGetDevice(&previous_));
  SDN_CUDA_CHECK(cudaSetDevice(device));
}

CudaDeviceScope::~CudaDeviceScope() { cudaSetDevice(previous_); }

CudaStream::CudaStream(int device) {
  CudaDeviceScope scope(device);
  int least = 0;
  int greatest = 0;
  SDN_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  SDN_CUDA_CHECK(cudaStreamCreateWithPriority(&stream_, cudaStreamNonBlocking, greatest));
}

CudaStream::~CudaStream() {
  if (stream_) cudaStreamDestroy(stream_);
}

CudaStream::CudaStream(CudaStream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}

CudaEvent::CudaEvent(int device) {
  CudaDeviceScope scope(device);
  SDN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming));
}

CudaEvent::~CudaEvent() {
  if (event_) cudaEventDestroy(event_);
}

CudaEvent::CudaEvent(CudaEvent&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

void CudaEvent::record(cudaStream_t stream) { SDN_CUDA_CHECK(cudaEventRecord(event_, stream)); }

}  // namespace sdn::dist

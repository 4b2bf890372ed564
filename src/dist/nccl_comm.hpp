// NcclComm: RAII owner of an NCCL communicator bootstrapped over MPI, and SDN_NCCL_CHECK (file:line,
// rank/host, ncclGetErrorString and, where NCCL has it, ncclGetLastError). Compiled only with SDN_WITH_NCCL.
#pragma once

#include <mpi.h>
#include <nccl.h>
#include <torch/torch.h>

#include <atomic>
#include <string>

#include "core/error.hpp"

namespace sdn::dist {

// NCCL's description of `rc` plus its last error detail when the library provides one.
std::string nccl_error_text(ncclResult_t rc);

// NCCL element type for a tensor type that NCCL can sum; throws sdn::Error naming `what` otherwise.
ncclDataType_t nccl_type(torch::ScalarType type, const std::string& what);

class NcclComm {
 public:
  // Collective over `comm`: rank 0 makes the unique id, MPI_Bcast hands it to every rank (the MPI launch
  // is already up, so no extra rendezvous service is needed), and each rank joins on CUDA `device`.
  NcclComm(MPI_Comm comm, int device);
  // ncclCommDestroy normally; ncclCommAbort after mark_failed(), which also stops kernels that wait for a
  // peer that will never arrive.
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  ncclComm_t get() const { return comm_; }
  void mark_failed() { failed_ = true; }
  // ncclCommAbort now, from any thread (the collective watchdog on a timeout): kernels waiting for a peer
  // return, so the process can be ended. The communicator is unusable afterwards; the job is aborted next.
  void abort_now();

 private:
  ncclComm_t comm_ = nullptr;
  bool failed_ = false;
  std::atomic<bool> aborted_{false};
};

}  // namespace sdn::dist

#define SDN_NCCL_CHECK(expr)                                                                                \
  do {                                                                                                      \
    const ncclResult_t sdn_nccl_rc_ = (expr);                                                               \
    if (sdn_nccl_rc_ != ncclSuccess)                                                                        \
      ::sdn::throw_api_error("NCCL", #expr, __FILE__, __LINE__, ::sdn::dist::nccl_error_text(sdn_nccl_rc_)); \
  } while (0)

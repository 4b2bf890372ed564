// Implements NcclComm and the NCCL helpers (see nccl_comm.hpp).
#include "dist/nccl_comm.hpp"

#include "dist/cuda_handles.hpp"
#include "dist/mpi_check.hpp"

namespace sdn::dist {

std::string nccl_error_text(ncclResult_t rc) {
  std::string text = ncclGetErrorString(rc);
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 13, 0)
  if (const char* last = ncclGetLastError(nullptr); last && *last) text += " (" + std::string(last) + ")";
#endif
  return text;
}

ncclDataType_t nccl_type(torch::ScalarType type, const std::string& what) {
  switch (type) {
    case torch::kFloat: return ncclFloat32;
    case torch::kDouble: return ncclFloat64;
    case torch::kHalf: return ncclFloat16;
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 10, 0)
    case torch::kBFloat16: return ncclBfloat16;
#endif
    case torch::kInt: return ncclInt32;
    case torch::kLong: return ncclInt64;
    case torch::kByte: return ncclUint8;
    case torch::kChar: return ncclInt8;
    default: throw Error(what + ": NCCL cannot sum tensors of type " + std::string(c10::toString(type)));
  }
}

NcclComm::NcclComm(MPI_Comm comm, int device) {
  int rank = 0;
  int size = 1;
  SDN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  SDN_MPI_CHECK(MPI_Comm_size(comm, &size));
  ncclUniqueId id;
  if (rank == 0) SDN_NCCL_CHECK(ncclGetUniqueId(&id));
  SDN_MPI_CHECK(MPI_Bcast(&id, static_cast<int>(sizeof(id)), MPI_BYTE, 0, comm));
  CudaDeviceScope scope(device);
  SDN_NCCL_CHECK(ncclCommInitRank(&comm_, size, id, rank));
}

void NcclComm::abort_now() {
  if (comm_ && !aborted_.exchange(true)) ncclCommAbort(comm_);
}

NcclComm::~NcclComm() {
  if (!comm_ || aborted_.exchange(true)) return;
  if (failed_) {
    ncclCommAbort(comm_);
  } else {
    ncclCommDestroy(comm_);
  }
}

}  // namespace sdn::dist

// Implements the tensor and scalar collectives (see collectives.hpp).
#include "dist/collectives.hpp"

#include <climits>
#include <memory>

#include "core/error.hpp"
#include "dist/mpi_check.hpp"
#include "dist/watchdog.hpp"
#if SDN_WITH_NCCL
#include <c10/cuda/CUDAStream.h>

#include "dist/nccl_comm.hpp"
#endif

namespace sdn::dist {
namespace {

constexpr int64_t kMaxBytesPerCall = 1LL << 30;  // keeps MPI's int counts far from overflow

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

void mpi_sum_inplace(MPI_Comm comm, torch::Tensor& t) {
  const MPI_Datatype type = mpi_sum_type(t.scalar_type(), "cross-rank sum");
  torch::Tensor work = t.is_contiguous() ? t : t.contiguous();
  const int64_t per_call = kMaxBytesPerCall / static_cast<int64_t>(work.element_size());
  CollectiveScope watch("MPI_Allreduce of the cross-rank sum (SyncBatchNorm)");
  auto* base = static_cast<char*>(work.data_ptr());
  for (int64_t done = 0; done < work.numel(); done += per_call) {
    const int count = static_cast<int>(std::min<int64_t>(per_call, work.numel() - done));
    SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, base + done * work.element_size(), count, type, MPI_SUM, comm));
  }
  if (!work.is_same(t)) t.copy_(work);
}

struct CrossRankSumState {
  MpiComm comm;
#if SDN_WITH_NCCL
  std::unique_ptr<NcclComm> nccl;  // created on the first CUDA tensor (collective: SyncBN runs on all ranks)
  int nccl_device = -1;
#endif
};

#if SDN_WITH_NCCL
void device_sum_inplace(CrossRankSumState& state, torch::Tensor& t) {
  const int device = t.device().index();
  if (!state.nccl) {
    state.nccl = std::make_unique<NcclComm>(state.comm.get(), device);
    state.nccl_device = device;
  }
  SDN_CHECK(state.nccl_device == device, "cross-rank sum used on cuda:" + std::to_string(device) +
                                             " after cuda:" + std::to_string(state.nccl_device));
  torch::Tensor work = t.is_contiguous() ? t : t.contiguous();
  // The current stream orders the sum after the kernels that produced `t` and before those that read it,
  // with no host synchronisation.
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device).stream();
  SDN_NCCL_CHECK(ncclAllReduce(work.data_ptr(), work.data_ptr(), static_cast<size_t>(work.numel()),
                               nccl_type(work.scalar_type(), "cross-rank sum"), ncclSum, state.nccl->get(), stream));
  if (!work.is_same(t)) t.copy_(work);
}
#else
void device_sum_inplace(CrossRankSumState& state, torch::Tensor& t) {
  // Built without NCCL: a host round trip keeps CUDA runs correct (slowly) rather than failing.
  torch::Tensor host = t.to(torch::kCPU).contiguous();
  mpi_sum_inplace(state.comm.get(), host);
  t.copy_(host);
}
#endif

}  // namespace

MPI_Datatype mpi_sum_type(torch::ScalarType type, const std::string& what) {
  switch (type) {
    case torch::kFloat: return MPI_FLOAT;
    case torch::kDouble: return MPI_DOUBLE;
    case torch::kInt: return MPI_INT32_T;
    case torch::kLong: return MPI_INT64_T;
    case torch::kByte: return MPI_UINT8_T;
    case torch::kChar: return MPI_INT8_T;
    default:
      throw Error(what + ": MPI cannot sum tensors of type " + std::string(c10::toString(type)),
                  "keep CPU parameters in float32 or float64 (half precision needs CUDA and NCCL)");
  }
}

void check_same_on_all_ranks(MPI_Comm comm, uint64_t value, const std::string& what) {
  // One collective for min and max: max(~v) = ~min(v).
  uint64_t in[2] = {value, ~value};
  uint64_t out[2] = {0, 0};
  CollectiveScope watch("MPI_Allreduce checking that the " + what + " is the same on all ranks");
  SDN_MPI_CHECK(MPI_Allreduce(in, out, 2, MPI_UINT64_T, MPI_MAX, comm));
  if (out[0] != value || ~out[1] != value)
    throw Error(what + " differs between ranks " + where_am_i(),
                "every rank must build the same model with the same options (config, frozen layers, dtypes)");
}

void broadcast_from_root(const Communicator& comm, const std::vector<torch::Tensor>& tensors, int root) {
  SDN_CHECK(root >= 0 && root < comm.size(), "broadcast root " + std::to_string(root) + " is not a rank");
  uint64_t h = mix(0, tensors.size());
  for (const auto& t : tensors) {
    h = mix(h, static_cast<uint64_t>(t.scalar_type()));
    for (int64_t d : t.sizes()) h = mix(h, static_cast<uint64_t>(d));
  }
  check_same_on_all_ranks(comm.comm(), h, "the list of parameters and buffers (shapes, dtypes)");

  torch::NoGradGuard no_grad;
  CollectiveScope watch("MPI_Bcast of parameters and buffers from rank " + std::to_string(root));
  for (const auto& t : tensors) {
    if (t.numel() == 0) continue;
    const bool direct = t.device().is_cpu() && t.is_contiguous();
    torch::Tensor host = direct ? t : t.detach().to(torch::kCPU).contiguous();
    auto* bytes = static_cast<char*>(host.data_ptr());
    const int64_t total = host.numel() * static_cast<int64_t>(host.element_size());
    for (int64_t done = 0; done < total; done += kMaxBytesPerCall) {
      const int count = static_cast<int>(std::min(kMaxBytesPerCall, total - done));
      SDN_MPI_CHECK(MPI_Bcast(bytes + done, count, MPI_BYTE, root, comm.comm()));
    }
    if (!direct) t.copy_(host);
  }
}

std::vector<torch::Tensor> state_tensors(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out = module.parameters(/*recurse=*/true);
  for (auto& b : module.buffers(/*recurse=*/true)) out.push_back(b);
  return out;
}

CrossRankSum make_cross_rank_sum(const Communicator& comm) {
  // A private communicator: these sums run inside forward/backward, interleaved with the reducer's
  // collectives, which live on the reducer's own communicator.
  auto state = std::make_shared<CrossRankSumState>();
  state->comm = MpiComm::duplicate(comm.comm());
  return [state](torch::Tensor& t) {
    torch::NoGradGuard no_grad;
    if (t.is_cuda()) {
      device_sum_inplace(*state, t);
    } else {
      mpi_sum_inplace(state->comm.get(), t);
    }
  };
}

std::vector<double> allreduce_sum(const Communicator& comm, std::vector<double> values) {
  if (values.empty()) return values;
  CollectiveScope watch("MPI_Allreduce of step scalars (losses, stop and checkpoint votes)");
  SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                              comm.comm()));
  return values;
}

std::vector<double> allreduce_mean(const Communicator& comm, std::vector<double> values) {
  values = allreduce_sum(comm, std::move(values));
  for (double& v : values) v /= comm.size();
  return values;
}

std::string broadcast_string(const Communicator& comm, const std::string& value, int root) {
  CollectiveScope watch("MPI_Bcast of a string from rank " + std::to_string(root));
  std::int64_t n = comm.rank() == root ? static_cast<std::int64_t>(value.size()) : 0;
  SDN_MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm.comm()));
  std::string out = comm.rank() == root ? value : std::string(static_cast<size_t>(n), '\0');
  for (std::int64_t done = 0; done < n; done += kMaxBytesPerCall) {
    const int count = static_cast<int>(std::min<std::int64_t>(kMaxBytesPerCall, n - done));
    SDN_MPI_CHECK(MPI_Bcast(out.data() + done, count, MPI_CHAR, root, comm.comm()));
  }
  return out;
}

std::vector<torch::Tensor> gather_bytes(const Communicator& comm, const torch::Tensor& bytes, int root) {
  auto mine = bytes.to(torch::kCPU).contiguous();
  SDN_CHECK(mine.scalar_type() == torch::kByte, "gather_bytes needs a uint8 tensor");
  const int n = static_cast<int>(mine.numel());
  check_same_on_all_ranks(comm.comm(), static_cast<uint64_t>(n), "gathered byte count");
  const bool here = comm.rank() == root;
  CollectiveScope watch("MPI_Gather of per-rank bytes (RNG states) to rank " + std::to_string(root));
  auto all = torch::empty({here ? static_cast<std::int64_t>(n) * comm.size() : 0}, torch::kByte);
  SDN_MPI_CHECK(MPI_Gather(mine.data_ptr(), n, MPI_BYTE, here ? all.data_ptr() : nullptr, n, MPI_BYTE, root, comm.comm()));
  std::vector<torch::Tensor> out;
  for (int r = 0; here && r < comm.size(); ++r) out.push_back(all.narrow(0, static_cast<std::int64_t>(r) * n, n).clone());
  return out;
}

void barrier(const Communicator& comm) {
  CollectiveScope watch("MPI_Barrier (e.g. after a checkpoint save: every rank waits until it is durable)");
  SDN_MPI_CHECK(MPI_Barrier(comm.comm()));
}

}  // namespace sdn::dist

// Small collectives on tensors and scalars used outside the gradient reducer: the rank-0 broadcast of
// parameters and buffers at start and after a resume, the in-place cross-rank sum behind SyncBatchNorm,
// metric averaging and the cross-rank consistency check. All are collective: every rank of the
// communicator calls them in the same order.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

#include "dist/mpi_session.hpp"

namespace sdn::dist {

// The MPI type for a tensor element type that MPI can SUM (float, double, int32, int64, uint8, int8);
// throws sdn::Error naming `what` otherwise (MPI has no half/bfloat16 arithmetic).
MPI_Datatype mpi_sum_type(torch::ScalarType type, const std::string& what);

// Throws sdn::Error unless `value` is the same on every rank ("<what> differs between ranks: ...").
void check_same_on_all_ranks(MPI_Comm comm, uint64_t value, const std::string& what);

// Overwrites every tensor with rank `root`'s values (parameters and buffers: model.parameters() and
// model.buffers()). First checks that all ranks hold the same list (count, shapes, dtypes), so a mismatched
// model fails with a message instead of corrupting memory. Device tensors go through a host copy: this runs
// once per start/resume, where simplicity beats the few milliseconds a device broadcast would save.
void broadcast_from_root(const Communicator& comm, const std::vector<torch::Tensor>& tensors, int root = 0);

// Parameters followed by buffers of `module`, the list broadcast_from_root expects.
std::vector<torch::Tensor> state_tensors(const torch::nn::Module& module);

// In-place SUM across ranks of one tensor, for SyncBatchNorm's statistics (forward) and gradient sums
// (backward). CPU tensors use MPI_Allreduce on a private duplicate of `comm`; CUDA tensors use NCCL on the
// current stream when built with SDN_WITH_NCCL (communicator created on first use, which is collective),
// else a host round trip. The returned function keeps its communicators alive.
using CrossRankSum = std::function<void(torch::Tensor&)>;
CrossRankSum make_cross_rank_sum(const Communicator& comm);

// Element-wise sum / mean over ranks (metrics, losses for the progress line).
std::vector<double> allreduce_sum(const Communicator& comm, std::vector<double> values);
std::vector<double> allreduce_mean(const Communicator& comm, std::vector<double> values);

// Rank `root`'s string on every rank (length first, so any length goes through: paths are not cut).
std::string broadcast_string(const Communicator& comm, const std::string& value, int root = 0);

// Every rank's byte tensor (the same size on all ranks) gathered to `root`, in rank order; empty elsewhere.
std::vector<torch::Tensor> gather_bytes(const Communicator& comm, const torch::Tensor& bytes, int root = 0);

// Waits until every rank of `comm` has arrived.
void barrier(const Communicator& comm);

}  // namespace sdn::dist

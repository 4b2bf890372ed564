// The one place that picks a gradient-reducer backend.
#pragma once

#include <memory>
#include <vector>

#include "dist/gradient_reducer.hpp"
#include "dist/mpi_session.hpp"

namespace sdn::dist {

// Collective over `comm`. Chooses by the device of the parameters, not by a config switch, so one config
// runs on a laptop and on the cluster: CUDA tensors -> NcclReducer (NCCL reduces device memory directly
// on its own stream, far faster than staging through MPI), anything else -> MpiReducer. CUDA parameters
// in a build without SDN_WITH_NCCL are an error with the rebuild hint rather than a silent slow path.
std::unique_ptr<GradientReducer> make_reducer(std::vector<NamedTensor> params, const ReducerOptions& options,
                                              const Communicator& comm);

// Whether this build has the NCCL backend.
bool nccl_available();

}  // namespace sdn::dist

// Implements make_reducer (see reducer_factory.hpp).
#include "dist/reducer_factory.hpp"

#include "core/error.hpp"
#include "dist/mpi_reducer.hpp"
#if SDN_WITH_NCCL
#include "dist/nccl_reducer.hpp"
#endif

namespace sdn::dist {

bool nccl_available() { return SDN_WITH_NCCL != 0; }

std::unique_ptr<GradientReducer> make_reducer(std::vector<NamedTensor> params, const ReducerOptions& options,
                                              const Communicator& comm) {
  bool cuda = false;
  for (const auto& p : params) cuda = cuda || (p.tensor.defined() && p.tensor.requires_grad() && p.tensor.is_cuda());
#if SDN_WITH_NCCL
  if (cuda) return std::make_unique<NcclReducer>(std::move(params), options, comm);
#else
  if (cuda)
    throw Error("reducer '" + options.name + "': the parameters are CUDA tensors but this build has no NCCL",
                "reconfigure with -DSDN_WITH_CUDA=ON -DSDN_WITH_NCCL=ON and a CUDA LibTorch (README \"Expanse\")");
#endif
  return std::make_unique<MpiReducer>(std::move(params), options, comm);
}

}  // namespace sdn::dist

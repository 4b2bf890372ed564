// A small model for the reducer tests: conv + BN + linear layers (several buckets under a tiny cap), a
// parameter only some ranks use, one no rank uses, and a frozen one. Construction is deterministic from
// a seed, so every rank (and a reference copy) starts from identical weights.
#pragma once

#include <torch/torch.h>

#include <vector>

#include <mpi.h>

namespace sdn::dist::testing {

struct NetImpl : torch::nn::Module {
  explicit NetImpl(uint64_t seed) {
    torch::manual_seed(seed);
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(8));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 16, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(16, 5));
    sometimes = register_parameter("sometimes", torch::randn({5}));
    never = register_parameter("never", torch::randn({4}));
    frozen = register_parameter("frozen", torch::randn({5}), /*requires_grad=*/false);
  }

  // x: [N, 3, H, W] -> [N, 5]; `use_sometimes` adds the parameter that only some ranks use.
  torch::Tensor forward(const torch::Tensor& x, bool use_sometimes) {
    auto h = torch::relu(bn1(conv1(x)));
    h = torch::relu(conv2(h)).mean({2, 3});
    auto y = fc(h) + frozen;
    if (use_sometimes) y = y * sometimes;
    return y;
  }

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Linear fc{nullptr};
  torch::Tensor sometimes, never, frozen;
};
TORCH_MODULE(Net);

// Rank-dependent input batch and a scalar loss.
inline torch::Tensor batch_for(int rank, int micro, int64_t n = 2) {
  auto gen_seed = static_cast<uint64_t>(1000 + 17 * rank + micro);
  torch::manual_seed(gen_seed);
  return torch::randn({n, 3, 6, 6});
}

inline torch::Tensor loss_of(const torch::Tensor& y) { return (y * y).mean() + y.sum() * 0.1; }

// grad averaged over the ranks of `comm` by one MPI_Allreduce per tensor: the reference.
inline torch::Tensor reference_average(const torch::Tensor& grad, MPI_Comm comm) {
  int world = 1;
  MPI_Comm_size(comm, &world);
  auto out = grad.detach().clone().contiguous();
  MPI_Allreduce(MPI_IN_PLACE, out.data_ptr(), static_cast<int>(out.numel()),
                out.scalar_type() == torch::kDouble ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, comm);
  return out / world;
}

}  // namespace sdn::dist::testing

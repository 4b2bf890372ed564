// NcclReducer and the CUDA paths of the collectives (label gpu; 1 rank on 1 GPU, built with SDN_WITH_NCCL).
// With one rank the average is the local gradient, so the reference is the same model on the CPU; the test
// exercises what a CPU build cannot: hooks on the CUDA autograd thread, packing on the compute stream,
// event ordering with the NCCL stream, grouped launches in finish(), and device-side copy-back.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "dist/reducer_factory.hpp"
#include "dist_test_model.hpp"

namespace sdn::dist {
namespace {

using testing::Net;

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

ReducerOptions tiny_buckets() {
  ReducerOptions o;
  o.bucket_cap_bytes = 512;
  o.first_bucket_cap_bytes = 64;
  o.name = "gpu-test";
  return o;
}

void expect_close(const std::string& name, const torch::Tensor& gpu, const torch::Tensor& cpu_local, MPI_Comm comm) {
  ASSERT_TRUE(gpu.defined()) << name;
  const auto expected = testing::reference_average(cpu_local, comm);
  const auto got = gpu.to(torch::kCPU);
  // CUDA and CPU convolutions round differently (cuDNN may use TF32): relative tolerance, plus an absolute
  // floor for gradients that are zero up to rounding (a conv bias followed by BatchNorm).
  const double diff = (got - expected).abs().max().item<double>();
  const double scale = expected.abs().max().item<double>();
  EXPECT_LE(diff, 1e-3 * scale + 1e-6) << name << ": max |nccl - reference| = " << diff << " (scale " << scale << ")";
}

TEST(NcclReducer, MatchesCpuReferenceOverSeveralSteps) {
  SKIP_WITHOUT_CUDA();
  Communicator comm;
  const torch::Device device(torch::kCUDA, 0);
  Net model(42);
  model->to(device);
  Net reference(42);
  auto reducer = make_reducer(named_parameters(*model), tiny_buckets(), comm);
  ASSERT_STREQ(reducer->backend(), "nccl");
  EXPECT_GE(reducer->buckets().size(), 5u);
  for (int step = 0; step < 3; ++step) {
    model->zero_grad();
    reference->zero_grad();
    const auto x = testing::batch_for(comm.rank(), step);
    testing::loss_of(model->forward(x.to(device), true)).backward();
    reducer->finish();
    testing::loss_of(reference->forward(x, true)).backward();
    auto mine = model->named_parameters();
    for (const auto& item : reference->named_parameters()) {
      if (!item.value().requires_grad() || item.key() == "never") continue;
      expect_close(item.key(), mine[item.key()].grad(), item.value().grad(), comm.comm());
    }
    EXPECT_FALSE(model->never.grad().defined());
  }
  EXPECT_GT(reducer->stats().buckets_started_in_backward, 0);
  EXPECT_GT(reducer->stats().buckets_started_in_finish, 0);  // the bucket holding "never"
}

TEST(NcclReducer, NoSyncAccumulation) {
  SKIP_WITHOUT_CUDA();
  Communicator comm;
  const torch::Device device(torch::kCUDA, 0);
  Net model(9);
  model->to(device);
  Net reference(9);
  auto reducer = make_reducer(named_parameters(*model), tiny_buckets(), comm);
  for (int micro = 0; micro < 3; ++micro) {
    reducer->set_sync(micro == 2);
    const auto x = testing::batch_for(comm.rank(), micro);
    (testing::loss_of(model->forward(x.to(device), true)) / 3).backward();
    reducer->finish();
    (testing::loss_of(reference->forward(x, true)) / 3).backward();
  }
  expect_close("conv1.weight", model->conv1->weight.grad(), reference->conv1->weight.grad(), comm.comm());
  expect_close("fc.bias", model->fc->bias.grad(), reference->fc->bias.grad(), comm.comm());
  EXPECT_EQ(reducer->stats().synced_steps, 1);
}

TEST(NcclCollectives, CrossRankSumAndBroadcastOnDevice) {
  SKIP_WITHOUT_CUDA();
  Communicator comm;
  const torch::Device device(torch::kCUDA, 0);
  auto sum = make_cross_rank_sum(comm);
  auto a = torch::full({2 * 8 + 1}, comm.rank() + 1.0, torch::dtype(torch::kDouble).device(device));
  sum(a);
  const double expected = comm.size() * (comm.size() + 1) / 2.0;
  EXPECT_TRUE(torch::allclose(a.cpu(), torch::full({17}, expected, torch::kDouble)));
  auto strided = torch::ones({4, 3}, torch::dtype(torch::kFloat).device(device)).t();
  sum(strided);
  EXPECT_FLOAT_EQ(strided.sum().item<float>(), 12.0f * static_cast<float>(comm.size()));

  Net model(100 + comm.rank());
  model->to(device);
  const auto before = model->fc->weight.detach().cpu();
  broadcast_from_root(comm, state_tensors(*model));
  if (comm.rank() == 0) {
    EXPECT_TRUE(torch::equal(model->fc->weight.cpu(), before));
  }
}

}  // namespace
}  // namespace sdn::dist

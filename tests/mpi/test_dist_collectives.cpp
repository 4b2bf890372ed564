// Collectives (2 ranks): rank-0 broadcast of parameters and buffers, cross-rank sum (SyncBN), scalar
// averaging, stop-flag and failure agreement, communicator layout.
#include <gtest/gtest.h>

#include <climits>

#include "core/error.hpp"
#include "dist/abort.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "dist_test_model.hpp"

namespace sdn::dist {
namespace {

// Max and min over ranks of each value, in one call each.
std::pair<std::vector<double>, std::vector<double>> max_min(const Communicator& comm, std::vector<double> v) {
  std::vector<double> hi(v.size()), lo(v.size());
  MPI_Allreduce(v.data(), hi.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_MAX, comm.comm());
  MPI_Allreduce(v.data(), lo.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_MIN, comm.comm());
  return {hi, lo};
}

TEST(DistCommunicator, WorldAndNodeLayout) {
  Communicator comm;
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  EXPECT_EQ(comm.size(), world);
  EXPECT_NE(comm.comm(), MPI_COMM_WORLD);  // a duplicate, not the world itself
  // Under ctest every rank runs on this machine: one node.
  EXPECT_EQ(comm.local_size(), comm.size());
  EXPECT_EQ(comm.local_rank(), comm.rank());
  const auto values = comm.local_allgather("rank" + std::to_string(comm.rank()) + std::string(comm.rank(), 'x'));
  ASSERT_EQ(static_cast<int>(values.size()), comm.local_size());
  for (int r = 0; r < comm.local_size(); ++r) EXPECT_EQ(values[r], "rank" + std::to_string(r) + std::string(r, 'x'));
  EXPECT_EQ(process_identity().rank, comm.rank());
  EXPECT_EQ(process_identity().world, comm.size());
}

TEST(DistCollectives, BroadcastFromRootOverwritesParametersAndBuffers) {
  Communicator comm;
  testing::Net model(/*seed=*/100 + comm.rank());  // different weights on every rank
  {
    torch::NoGradGuard no_grad;
    model->bn1->running_mean.fill_(comm.rank() + 0.5);
  }
  const auto root_before = model->conv2->weight.detach().clone();
  // A non-contiguous view goes through the staged path.
  auto transposed_holder = torch::arange(12, torch::kFloat).reshape({3, 4}) * (comm.rank() + 1);
  auto transposed = transposed_holder.t();
  auto tensors = state_tensors(*model);
  tensors.push_back(transposed);
  broadcast_from_root(comm, tensors, /*root=*/0);

  std::vector<double> sums;
  for (const auto& t : tensors) sums.push_back(t.to(torch::kDouble).sum().item<double>());
  const auto [hi, lo] = max_min(comm, sums);
  for (size_t i = 0; i < sums.size(); ++i) EXPECT_EQ(hi[i], lo[i]) << "tensor " << i << " differs after broadcast";
  EXPECT_FLOAT_EQ(model->bn1->running_mean[0].item<float>(), 0.5f);
  EXPECT_TRUE(torch::equal(transposed_holder, torch::arange(12, torch::kFloat).reshape({3, 4})));
  if (comm.rank() == 0) {
    EXPECT_TRUE(torch::equal(model->conv2->weight, root_before));
  }
}

TEST(DistCollectives, BroadcastRejectsDifferentTensorLists) {
  Communicator comm;
  std::vector<torch::Tensor> tensors = {torch::zeros({2, 3})};
  if (comm.rank() == 1) tensors.push_back(torch::zeros({1}));
  try {
    broadcast_from_root(comm, tensors);
    ADD_FAILURE() << "expected an error on every rank";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differs between ranks"), std::string::npos) << e.what();
  }
}

TEST(DistCollectives, CrossRankSumInPlace) {
  Communicator comm;
  auto sum = make_cross_rank_sum(comm);
  const double expected = comm.size() * (comm.size() + 1) / 2.0;  // sum of (rank + 1)
  auto a = torch::full({5}, comm.rank() + 1.0, torch::kFloat);
  sum(a);
  EXPECT_TRUE(torch::allclose(a, torch::full({5}, expected, torch::kFloat))) << a;
  auto holder = torch::full({4, 3}, comm.rank() + 1.0, torch::kDouble);
  auto strided = holder.t();  // non-contiguous: reduced through a contiguous copy, written back in place
  sum(strided);
  EXPECT_TRUE(torch::allclose(holder, torch::full({4, 3}, expected, torch::kDouble)));
  auto half = torch::ones({2}, torch::kHalf);
  EXPECT_THROW(sum(half), Error);  // MPI has no half arithmetic; same outcome on every rank, no collective
}

TEST(DistCollectives, ScalarsStopFlagAndFailureAgreement) {
  Communicator comm;
  const auto mean = allreduce_mean(comm, {static_cast<double>(comm.rank()), 2.0});
  EXPECT_DOUBLE_EQ(mean[0], (comm.size() - 1) / 2.0);
  EXPECT_DOUBLE_EQ(mean[1], 2.0);
  EXPECT_DOUBLE_EQ(allreduce_sum(comm, {1.0})[0], comm.size());
  EXPECT_EQ(agree_max(comm, comm.rank() == comm.size() - 1 ? 3 : 0), 3);
  EXPECT_EQ(agree_max(comm, 0), 0);
  EXPECT_EQ(first_failed_rank(comm, false), -1);
  EXPECT_EQ(first_failed_rank(comm, comm.rank() >= 1), comm.size() > 1 ? 1 : -1);
}

}  // namespace
}  // namespace sdn::dist

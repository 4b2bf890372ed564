// Device selection (dist/device_select.hpp): every launcher layout, from values only.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "dist/device_select.hpp"

namespace sdn::dist {
namespace {

GpuBindingFacts facts(int local_rank, int local_size, int n_visible) {
  GpuBindingFacts f;
  f.local_rank = local_rank;
  f.local_size = local_size;
  f.n_visible = n_visible;
  return f;
}

std::string error_text(const GpuBindingFacts& f) {
  try {
    select_device(f);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DistDevice, OneRankPerVisibleGpu) {
  for (int r = 0; r < 4; ++r) EXPECT_EQ(select_device(facts(r, 4, 4)), r);
  // More GPUs than ranks (e.g. 2 ranks on a 4-GPU node): the first ones.
  EXPECT_EQ(select_device(facts(1, 2, 4)), 1);
}

TEST(DistDevice, CudaVisibleDevicesListIsAlreadyRemapped) {
  auto f = facts(1, 2, 2);
  f.cuda_visible_devices = "2,3";
  EXPECT_EQ(select_device(f), 1);  // index 1 of the visible list = physical GPU 3
}

TEST(DistDevice, SlurmPerTaskBindingGivesEachTaskItsOwnSingleGpu) {
  for (int r = 0; r < 4; ++r) {
    auto f = facts(r, 4, 1);
    f.cuda_visible_devices = std::to_string(r);
    f.local_cuda_visible_devices = {"0", "1", "2", "3"};
    f.slurm_gpus = "0,1,2,3";
    EXPECT_EQ(select_device(f), 0) << "local rank " << r;
  }
  // Values not gathered: trust the binding.
  auto f = facts(2, 4, 1);
  f.cuda_visible_devices = "2";
  EXPECT_EQ(select_device(f), 0);
}

TEST(DistDevice, TwoTasksBoundToTheSameGpuIsAnError) {
  auto f = facts(1, 2, 1);
  f.cuda_visible_devices = "0";
  f.local_cuda_visible_devices = {"0", "0"};
  const auto text = error_text(f);
  EXPECT_NE(text.find("both bound to the single GPU '0'"), std::string::npos) << text;
  EXPECT_NE(text.find("--gpus-per-task=1"), std::string::npos) << text;
}

TEST(DistDevice, SingleProcessAndSingleGpu) {
  EXPECT_EQ(select_device(facts(0, 1, 1)), 0);
  EXPECT_EQ(select_device(facts(0, 1, 8)), 0);
}

TEST(DistDevice, NoVisibleGpuNamesTheEnvironment) {
  auto f = facts(0, 1, 0);
  f.cuda_visible_devices = "NoDevFiles";
  f.slurm_gpus = "";
  const auto text = error_text(f);
  EXPECT_NE(text.find("no CUDA device is visible"), std::string::npos) << text;
  EXPECT_NE(text.find("CUDA_VISIBLE_DEVICES='NoDevFiles'"), std::string::npos) << text;
  EXPECT_NE(text.find("--gpus-per-node"), std::string::npos) << text;
}

TEST(DistDevice, MoreRanksThanGpusIsAnError) {
  EXPECT_NE(error_text(facts(2, 4, 2)).find("more ranks on this node than visible GPUs"), std::string::npos);
  // Two ranks, one GPU, no binding: both would land on GPU 0.
  EXPECT_NE(error_text(facts(1, 2, 1)).find("more ranks on this node than visible GPUs"), std::string::npos);
}

TEST(DistDevice, InvalidLayout) {
  EXPECT_THROW(select_device(facts(2, 2, 2)), Error);
  EXPECT_THROW(select_device(facts(-1, 2, 2)), Error);
}

TEST(DistDevice, SplitVisibleDevices) {
  EXPECT_EQ(split_visible_devices("0,1, 3"), (std::vector<std::string>{"0", "1", "3"}));
  EXPECT_EQ(split_visible_devices("GPU-a1b2,GPU-c3d4"), (std::vector<std::string>{"GPU-a1b2", "GPU-c3d4"}));
  EXPECT_TRUE(split_visible_devices("").empty());
  EXPECT_TRUE(split_visible_devices("NoDevFiles").empty());
}

}  // namespace
}  // namespace sdn::dist

// FrozenBatchNorm2d and the tracked InstanceNorm2d: PyTorch's state_dict names, a frozen layer that never
// changes in train mode and gets no gradient (even when unfrozen by mistake), InstanceNorm's running
// statistics used in eval. Forward parity with Python torch is in test_models_bn_python.cpp.
#include <gtest/gtest.h>

#include "models/norm.hpp"
#include "models/state_dict.hpp"

namespace m = sdn::models;

namespace {

std::vector<std::string> names(const torch::nn::Module& module) {
  std::vector<std::string> out;
  for (const auto& [k, t] : m::state_dict(module)) out.push_back(k);
  return out;
}

}  // namespace

TEST(FrozenBatchNorm, NamesAreBatchNorm2dsAndParametersHaveNoGradient) {
  m::FrozenBatchNorm2d bn(6);
  torch::nn::BatchNorm2d ref(6);
  EXPECT_EQ(names(*bn), names(*ref));
  EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-3);
  ASSERT_EQ(bn->parameters().size(), 2u);  // counted like the original's frozen weight and bias
  for (const auto& p : bn->parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST(FrozenBatchNorm, TrainModeChangesNothingAndGivesNoGradient) {
  torch::manual_seed(2);
  m::FrozenBatchNorm2d bn(3);
  {
    torch::NoGradGuard g;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.normal_();
    bn->running_mean.normal_();
    bn->running_var.uniform_(0.5, 2.0);
  }
  std::vector<torch::Tensor> before;
  for (auto& [k, t] : m::state_dict(*bn)) before.push_back(t.clone());
  bn->train();
  bn->weight.requires_grad_(true);  // unfrozen by mistake: still fixed
  auto x = (torch::randn({4, 3, 5, 5}) * 3 + 1).requires_grad_(true);
  auto y = bn(x);
  (y * y).sum().backward();
  EXPECT_FALSE(bn->weight.grad().defined());
  EXPECT_FALSE(bn->bias.grad().defined());
  ASSERT_TRUE(x.grad().defined());  // the layer still passes gradients to its input
  auto sd = m::state_dict(*bn);
  for (size_t i = 0; i < sd.size(); ++i) EXPECT_TRUE(torch::equal(sd[i].second, before[i])) << sd[i].first;
  // Train and eval give the same output: the running statistics, never the batch's.
  auto expect = (x.detach() - bn->running_mean.view({1, -1, 1, 1})) /
                    (bn->running_var.view({1, -1, 1, 1}) + 1e-3).sqrt() * bn->weight.detach().view({1, -1, 1, 1}) +
                bn->bias.detach().view({1, -1, 1, 1});
  EXPECT_TRUE(torch::allclose(y.detach(), expect, 1e-5, 1e-5));
  bn->eval();
  EXPECT_TRUE(torch::equal(bn(x).detach(), y.detach()));
}

TEST(InstanceNormTracked, NamesAndRunningStatistics) {
  auto plain = m::instance_norm_tracked(5);
  EXPECT_EQ(names(*plain), (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  auto affine = m::instance_norm_tracked(5, /*affine=*/true);
  EXPECT_EQ(names(*affine),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
  torch::manual_seed(4);
  auto x = torch::randn({2, 5, 4, 4}) * 2 + 3;
  plain->train();
  auto y = plain(x);
  // Training normalises each sample by itself and moves the running mean towards the batch's instance mean.
  EXPECT_LT(y.mean({2, 3}).abs().max().item<double>(), 1e-5);
  auto expect_mean = 0.1 * x.mean({2, 3}).mean(0);
  EXPECT_TRUE(torch::allclose(plain->running_mean, expect_mean, 1e-5, 1e-6));
  EXPECT_EQ(plain->num_batches_tracked.item<int64_t>(), 0);  // as Python's InstanceNorm: never counted
  plain->eval();
  auto z = plain(x);
  auto expect = (x - plain->running_mean.view({1, -1, 1, 1})) / (plain->running_var.view({1, -1, 1, 1}) + 1e-5).sqrt();
  EXPECT_TRUE(torch::allclose(z, expect, 1e-5, 1e-5));
}

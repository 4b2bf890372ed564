// SyncBatchNorm2d: two threads acting as ranks (a barrier-based CrossRankSum), each with part of a batch, give
// the outputs, input gradients, summed weight/bias gradients and running statistics of plain BatchNorm2d on
// the full batch (torch kind); the same holds for a whole DRN model, and for the original kind against one
// rank with the whole batch. The original kind's bookkeeping after one step is checked by hand (against the
// Python transcription over k steps in test_models_bn_python.cpp). Batch-1 BatchNorm fails with a clear message.
// Tolerance: float32 activations, statistics combined in float64: |a - b| <= 1e-5 + 1e-4 |b|.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "models/drn.hpp"
#include "models/resnet_ppm_seg.hpp"
#include "models/segmentation_model.hpp"
#include "models/state_dict.hpp"
#include "models/sync_batchnorm.hpp"
#include "test_models_util.hpp"

namespace {

using sdn::models::CrossRankSum;
using sdn_test::run_ranks;
using sdn_test::ThreadAllReduce;

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double err = (a - b).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(a, b, /*rtol=*/1e-4, /*atol=*/1e-5)) << what << ": max |diff| = " << err;
}

void check_split(std::vector<int64_t> split) {
  torch::manual_seed(7);
  const int64_t n = split[0] + split[1], c = 3;
  auto weight = torch::rand({c}) + 0.5, bias = torch::randn({c});
  torch::nn::BatchNorm2d ref(c);
  sdn::models::SyncBatchNorm2d bn[2] = {sdn::models::SyncBatchNorm2d(c), sdn::models::SyncBatchNorm2d(c)};
  ThreadAllReduce comm(2);
  {
    torch::NoGradGuard g;
    ref->weight.copy_(weight);
    ref->bias.copy_(bias);
    for (auto& b : bn) {
      b->weight.copy_(weight);
      b->bias.copy_(bias);
    }
  }
  for (auto& b : bn) sdn::models::set_cross_rank_sum(*b, comm.sum_fn());
  for (int step = 0; step < 2; ++step) {
    SCOPED_TRACE("split " + std::to_string(split[0]) + "+" + std::to_string(split[1]) + ", step " +
                 std::to_string(step));
    auto x = torch::randn({n, c, 5, 6}) * 2.0 + 0.5 * (step + 1);
    auto g = torch::randn_like(x);
    auto xr = x.clone().requires_grad_(true);
    auto yr = ref(xr);
    (yr * g).sum().backward();

    std::vector<torch::Tensor> y(2), dx(2);
    run_ranks(2, [&](int r) {
      const int64_t begin = r == 0 ? 0 : split[0], end = r == 0 ? split[0] : n;
      auto xs = x.slice(0, begin, end).clone().requires_grad_(true);
      y[r] = bn[r](xs);
      (y[r] * g.slice(0, begin, end)).sum().backward();
      dx[r] = xs.grad();
    });
    expect_close(torch::cat(y).detach(), yr.detach(), "output");
    expect_close(torch::cat(dx), xr.grad(), "input gradient");
    expect_close(bn[0]->weight.grad() + bn[1]->weight.grad(), ref->weight.grad(), "weight gradient");
    expect_close(bn[0]->bias.grad() + bn[1]->bias.grad(), ref->bias.grad(), "bias gradient");
    for (auto& b : bn) {
      expect_close(b->running_mean, ref->running_mean, "running_mean");
      expect_close(b->running_var, ref->running_var, "running_var (unbiased global variance)");
      EXPECT_EQ(b->num_batches_tracked.item<int64_t>(), step + 1);
      b->weight.mutable_grad().zero_();
      b->bias.mutable_grad().zero_();
    }
    ref->weight.mutable_grad().zero_();
    ref->bias.mutable_grad().zero_();
  }
  EXPECT_EQ(comm.calls(), 4);  // one forward and one backward sum per step
}

}  // namespace

TEST(SyncBatchNorm, TwoRanksEqualBatchNormOnTheFullBatch) { check_split({2, 2}); }

TEST(SyncBatchNorm, UnequalShardsAreWeightedByTheirCounts) { check_split({1, 3}); }

TEST(SyncBatchNorm, WithoutCrossRankSumItIsPlainBatchNorm) {
  torch::manual_seed(3);
  sdn::models::SyncBatchNorm2d bn(4);
  torch::nn::BatchNorm2d ref(4);
  auto x = torch::randn({3, 4, 2, 5});
  auto a = x.clone().requires_grad_(true), b = x.clone().requires_grad_(true);
  auto g = torch::randn_like(x);
  (bn(a) * g).sum().backward();
  (ref(b) * g).sum().backward();
  expect_close(a.grad(), b.grad(), "input gradient");
  expect_close(bn->running_var, ref->running_var, "running_var");
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  bn->eval();
  ref->eval();
  expect_close(bn(x), ref(x), "eval output");
}

TEST(SyncBatchNorm, StateDictIsBatchNorm2ds) {
  sdn::models::SyncBatchNorm2d bn(8);
  torch::nn::BatchNorm2d ref(8);
  auto ours = sdn::models::state_dict(*bn), theirs = sdn::models::state_dict(*ref);
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].first, theirs[i].first);
    EXPECT_EQ(ours[i].second.sizes(), theirs[i].second.sizes());
    EXPECT_EQ(ours[i].second.scalar_type(), theirs[i].second.scalar_type());
  }
}

TEST(SyncBatchNorm, OneValuePerChannelFailsWithTheFix) {
  sdn::models::SyncBatchNorm2d bn(5);
  bn->set_label("decoder.ppm.0.2");
  try {
    bn(torch::randn({1, 5, 1, 1}));
    FAIL() << "no error for a batch of one value per channel";
  } catch (const sdn::UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("decoder.ppm.0.2"), std::string::npos) << what;
    EXPECT_NE(what.find("per-rank batch of at least 2"), std::string::npos) << what;
    EXPECT_NE(what.find("2 or more ranks"), std::string::npos) << what;
  }
  bn->eval();
  EXPECT_NO_THROW(bn(torch::randn({1, 5, 1, 1})));  // eval uses the running statistics
}

TEST(SyncBatchNorm, OneValuePerRankIsFineAcrossTwoRanks) {
  torch::manual_seed(5);
  auto x = torch::randn({2, 4, 1, 1});
  ThreadAllReduce comm(2);
  sdn::models::SyncBatchNorm2d bn[2] = {sdn::models::SyncBatchNorm2d(4), sdn::models::SyncBatchNorm2d(4)};
  std::vector<torch::Tensor> y(2);
  run_ranks(2, [&](int r) {
    sdn::models::set_cross_rank_sum(*bn[r], comm.sum_fn());
    y[r] = bn[r](x.slice(0, r, r + 1)).detach();
  });
  torch::nn::BatchNorm2d ref(4);
  expect_close(torch::cat(y), ref(x).detach(), "output");
}

TEST(SyncBatchNorm, OriginalModelAtBatchOneNamesTheFix) {
  auto model = sdn::models::build_semantic_model({});
  model->train();
  try {
    model->forward_train(torch::randn({1, 3, 32, 32}));
    FAIL() << "batch 1 trained without error";
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("decoder.ppm.0.2"), std::string::npos) << e.what();
  }
  EXPECT_NE(sdn::models::batch_norm_batch_problem("resnet50dilated8_ppm_deepsup", 1, 1), "");
  EXPECT_EQ(sdn::models::batch_norm_batch_problem("resnet50dilated8_ppm_deepsup", 1, 2), "");
  EXPECT_EQ(sdn::models::batch_norm_batch_problem("resnet50dilated8_ppm_deepsup", 2, 1), "");
  EXPECT_EQ(sdn::models::batch_norm_batch_problem("drn_d_22", 1, 1), "");
}

// A whole model with SyncBN in two thread-ranks equals the same model on the concatenated batch.
TEST(SyncBatchNorm, DrnTwoRanksEqualOneRankWithTheFullBatch) {
  torch::manual_seed(11);
  auto x = torch::randn({2, 3, 32, 32});
  auto labels = torch::randint(-1, 13, {2, 4, 4});
  sdn::models::SemanticModelOptions o;
  o.arch = "drn_d_22";
  auto full = sdn::models::build_semantic_model(o);
  sdn::models::SegmentationModel ranks[2] = {sdn::models::build_semantic_model(o),
                                             sdn::models::build_semantic_model(o)};
  ThreadAllReduce comm(2);
  // Sum of per-rank losses (each a sum over its pixels) = the full batch's loss.
  auto loss_of = [](const torch::Tensor& logp, const torch::Tensor& y) {
    return torch::nll_loss2d(logp, y, {}, at::Reduction::Sum, -1);
  };
  loss_of(full->forward_train(x).main, labels).backward();
  run_ranks(2, [&](int r) {
    sdn::models::set_cross_rank_sum(*ranks[r], comm.sum_fn());
    loss_of(ranks[r]->forward_train(x.slice(0, r, r + 1)).main, labels.slice(0, r, r + 1)).backward();
  });
  auto f = full->named_parameters(), a = ranks[0]->named_parameters(), b = ranks[1]->named_parameters();
  for (const auto& item : f) {
    if (!item.value().requires_grad()) continue;
    auto sum = a[item.key()].grad() + b[item.key()].grad();
    const double scale = item.value().grad().abs().max().item<double>() + 1e-12;
    const double err = (sum - item.value().grad()).abs().max().item<double>() / scale;
    EXPECT_LT(err, 1e-3) << item.key();
  }
  auto fb = full->named_buffers(), ab = ranks[0]->named_buffers();
  for (const auto& item : fb)
    if (item.value().is_floating_point()) expect_close(ab[item.key()], item.value(), item.key());
}

// The original's statistics do not depend on how the batch is split: 2 thread-ranks (1+3 samples) give the
// outputs, input gradients, summed parameter gradients and every buffer of 1 rank with all 4 samples.
TEST(SyncBatchNormOriginal, TwoRanksEqualOneRankOverSteps) {
  torch::manual_seed(17);
  const int64_t c = 3;
  auto one = sdn::models::original_sync_bn(c);
  sdn::models::SyncBatchNorm2d two[2] = {sdn::models::original_sync_bn(c), sdn::models::original_sync_bn(c)};
  ThreadAllReduce comm(2);
  for (auto& b : two) sdn::models::set_cross_rank_sum(*b, comm.sum_fn());
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    auto x = torch::randn({4, c, 3, 5}) * 1.5 + 0.3 * step;
    auto g = torch::randn_like(x);
    auto x1 = x.clone().requires_grad_(true);
    auto y1 = one(x1);
    (y1 * g).sum().backward();
    std::vector<torch::Tensor> y(2), dx(2);
    run_ranks(2, [&](int r) {
      const int64_t begin = r == 0 ? 0 : 1, end = r == 0 ? 1 : 4;
      auto xs = x.slice(0, begin, end).clone().requires_grad_(true);
      y[r] = two[r](xs);
      (y[r] * g.slice(0, begin, end)).sum().backward();
      dx[r] = xs.grad();
    });
    expect_close(torch::cat(y).detach(), y1.detach(), "output");
    expect_close(torch::cat(dx), x1.grad(), "input gradient");
    expect_close(two[0]->weight.grad() + two[1]->weight.grad(), one->weight.grad(), "weight gradient");
    expect_close(two[0]->bias.grad() + two[1]->bias.grad(), one->bias.grad(), "bias gradient");
    for (auto& b : two) {
      auto a = sdn::models::state_dict(*b), e = sdn::models::state_dict(*one);
      for (size_t i = 2; i < a.size(); ++i)
        if (a[i].second.is_floating_point()) expect_close(a[i].second, e[i].second, a[i].first);
      b->weight.mutable_grad().zero_();
      b->bias.mutable_grad().zero_();
    }
    one->weight.mutable_grad().zero_();
    one->bias.mutable_grad().zero_();
  }
  EXPECT_EQ(one->num_batches_tracked.item<int64_t>(), 0);  // the original's forward never counts
  EXPECT_NEAR(one->running_iter.item<double>(), 1 + 0.999 * (1 + 0.999 * (1 + 0.999)), 1e-5);
}

// The original's bookkeeping: after one step from the initial state, running = (init + batch) / 1.999.
TEST(SyncBatchNormOriginal, FirstStepFromInit) {
  torch::manual_seed(19);
  auto bn = sdn::models::original_sync_bn(2);
  auto x = torch::randn({3, 2, 4, 4}) * 2 + 1;
  bn(x);
  auto mean = x.mean({0, 2, 3}), var = x.var({0, 2, 3}, /*unbiased=*/true);
  expect_close(bn->tmp_running_mean, mean, "_tmp_running_mean");
  expect_close(bn->tmp_running_var, 0.999 + var, "_tmp_running_var");
  expect_close(bn->running_iter, torch::full({1}, 1.999), "_running_iter");
  expect_close(bn->running_mean, mean / 1.999, "running_mean");
  expect_close(bn->running_var, (0.999 + var) / 1.999, "running_var");
  // Training normalises with max(biased var, eps): a constant channel gives exactly 0, not NaN.
  auto y = bn(torch::ones({2, 2, 3, 3}));
  EXPECT_EQ(y.abs().max().item<double>(), 0.0);
}

TEST(SyncBatchNormOriginal, StateDictIsTheOriginals) {
  auto bn = sdn::models::original_sync_bn(8);
  std::vector<std::string> names;
  for (const auto& [k, t] : sdn::models::state_dict(*bn)) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked",
                                             "_tmp_running_mean", "_tmp_running_var", "_running_iter"}));
  EXPECT_EQ(bn->running_iter.sizes(), torch::IntArrayRef({1}));
  EXPECT_DOUBLE_EQ(bn->options.momentum_value(), 0.001);
}

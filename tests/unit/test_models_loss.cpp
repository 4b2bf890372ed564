// The semantic loss: NLL over valid labels of the main output + 0.4 x that of the deep-supervision output,
// ignored labels (Misc, unlabelled, padding = -1) change nothing, an all-ignored batch gives 0 (not NaN),
// pixel accuracy over valid labels; and the confusion-matrix metrics on a hand-computed case.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "models/seg_metrics.hpp"
#include "models/semantic_loss.hpp"

namespace {

// -mean over valid pixels of logp[n, label, i, j], written out with loops.
double manual_nll(const torch::Tensor& logp, const torch::Tensor& labels) {
  double sum = 0;
  int64_t count = 0;
  for (int64_t n = 0; n < labels.size(0); ++n)
    for (int64_t i = 0; i < labels.size(1); ++i)
      for (int64_t j = 0; j < labels.size(2); ++j) {
        const int64_t y = labels[n][i][j].item<int64_t>();
        if (y < 0) continue;
        sum -= logp[n][y][i][j].item<double>();
        ++count;
      }
  return sum / static_cast<double>(count);
}

}  // namespace

TEST(SemanticLoss, MainPlusPointFourDeepSupervisionOverValidLabels) {
  torch::manual_seed(4);
  sdn::models::SegOutput out;
  out.main = torch::log_softmax(torch::randn({2, 14, 3, 4}), 1).requires_grad_(true);
  out.deepsup = torch::log_softmax(torch::randn({2, 14, 3, 4}), 1);
  auto labels = torch::randint(-1, 13, {2, 3, 4});
  labels[0][0][0] = -1;
  labels[1][2][3] = 12;
  auto t = sdn::models::semantic_loss(out, labels);
  const double main = manual_nll(out.main, labels), deepsup = manual_nll(out.deepsup, labels);
  EXPECT_NEAR(t.main.item<double>(), main, 1e-5);
  EXPECT_NEAR(t.deepsup.item<double>(), deepsup, 1e-5);
  EXPECT_NEAR(t.total.item<double>(), main + 0.4 * deepsup, 1e-5);
  EXPECT_EQ(t.valid_pixels, (labels >= 0).sum().item<int64_t>());
  t.total.backward();
  // No gradient reaches ignored pixels.
  EXPECT_EQ(out.main.grad()[0].select(1, 0).select(1, 0).abs().sum().item<float>(), 0.0f);
}

TEST(SemanticLoss, IgnoredPixelsDoNotMatter) {
  torch::manual_seed(5);
  auto logits = torch::randn({1, 14, 2, 2});
  auto labels = torch::tensor({3, -1, -1, 0}, torch::kLong).view({1, 2, 2});
  sdn::models::SegOutput a, b;
  a.main = torch::log_softmax(logits, 1);
  auto changed = logits.clone();
  changed[0].select(1, 0).select(1, 1).fill_(50.0);  // pixel (0,1) is ignored
  changed[0].select(1, 1).select(1, 0).fill_(-9.0);  // pixel (1,0) is ignored
  b.main = torch::log_softmax(changed, 1);
  EXPECT_FLOAT_EQ(sdn::models::semantic_loss(a, labels).total.item<float>(),
                  sdn::models::semantic_loss(b, labels).total.item<float>());
  EXPECT_FALSE(sdn::models::semantic_loss(a, labels).deepsup.defined());
}

TEST(SemanticLoss, AllIgnoredGivesZeroNotNan) {
  sdn::models::SegOutput out;
  out.main = torch::log_softmax(torch::randn({1, 14, 2, 2}), 1).requires_grad_(true);
  auto t = sdn::models::semantic_loss(out, torch::full({1, 2, 2}, -1, torch::kLong));
  EXPECT_EQ(t.total.item<float>(), 0.0f);
  EXPECT_EQ(t.valid_pixels, 0);
  t.total.backward();
  EXPECT_EQ(out.main.grad().abs().sum().item<float>(), 0.0f);
}

TEST(SemanticLoss, RejectsLabelsOnAnotherGrid) {
  sdn::models::SegOutput out;
  out.main = torch::zeros({1, 14, 4, 4});
  EXPECT_THROW(sdn::models::semantic_loss(out, torch::zeros({1, 32, 32}, torch::kLong)), sdn::Error);
}

TEST(SemanticLoss, PixelAccuracyCountsValidLabelsOnly) {
  // argmax per pixel: 0, 1, 1, 2; labels: 0, 1, -1, 0  -> 2 correct of 3 valid.
  auto scores = torch::zeros({1, 3, 1, 4});
  scores[0][0][0][0] = 1;
  scores[0][1][0][1] = 1;
  scores[0][1][0][2] = 1;
  scores[0][2][0][3] = 1;
  auto labels = torch::tensor({0, 1, -1, 0}, torch::kLong).view({1, 1, 4});
  EXPECT_NEAR(sdn::models::pixel_accuracy(scores, labels).item<double>(), 2.0 / 3.0, 1e-6);
}

TEST(SegMetrics, HandComputedConfusionCase) {
  // 4 classes. Two batches so accumulation over the set is exercised:
  //   batch 1: labels 0 0 1 1, preds 0 1 1 1        batch 2: labels 2 -1, preds 0 2 (second pixel ignored)
  // class 0: I = 1, labelled 2, predicted (valid) 2 -> U = 3 -> IoU 1/3
  // class 1: I = 2, labelled 2, predicted 3         -> U = 3 -> IoU 2/3
  // class 2: I = 0, labelled 1, predicted 0         -> U = 1 -> IoU 0
  // class 3: never labelled nor predicted -> IoU 0 (the original's 0 / (0 + 1e-10))
  // mIoU = (1/3 + 2/3 + 0 + 0) / 4 = 0.25; pixel accuracy = 3 correct / 5 valid = 0.6
  sdn::models::ConfusionMatrix cm(4);
  cm.add(torch::tensor({0, 1, 1, 1}), torch::tensor({0, 0, 1, 1}));
  cm.add(torch::tensor({0, 2}).view({1, 2}), torch::tensor({2, -1}).view({1, 2}));
  EXPECT_EQ(cm.valid_pixels(), 5);
  EXPECT_NEAR(cm.pixel_accuracy(), 0.6, 1e-12);
  auto iou = cm.iou();
  EXPECT_NEAR(iou[0], 1.0 / 3.0, 1e-9);
  EXPECT_NEAR(iou[1], 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(iou[2], 0.0, 1e-12);
  EXPECT_NEAR(iou[3], 0.0, 1e-12);
  EXPECT_NEAR(cm.mean_iou(), 0.25, 1e-9);
  EXPECT_EQ(cm.counts()[2][0].item<int64_t>(), 1);  // [label][prediction]

  sdn::models::ConfusionMatrix other(4);
  other.add(torch::tensor({3}), torch::tensor({3}));
  cm.merge(other);
  EXPECT_NEAR(cm.iou()[3], 1.0, 1e-9);
  EXPECT_NEAR(cm.mean_iou(), (1.0 / 3 + 2.0 / 3 + 0 + 1) / 4, 1e-9);
}

TEST(SegMetrics, RejectsOutOfRangeIds) {
  sdn::models::ConfusionMatrix cm(14);
  EXPECT_THROW(cm.add(torch::tensor({14}), torch::tensor({0})), sdn::Error);
  EXPECT_THROW(cm.add(torch::tensor({0}), torch::tensor({14})), sdn::Error);
  EXPECT_NO_THROW(cm.add(torch::tensor({99}), torch::tensor({-1})));  // ignored pixel: prediction unused
}

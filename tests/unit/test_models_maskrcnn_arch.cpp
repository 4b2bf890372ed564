// Mask R-CNN architecture: the state_dict names and shapes equal the golden list written by the Python
// transcription of the original modules, the totals are the original's (690 entries without
// num_batches_tracked, 63,627,300 parameters), every BN is frozen, the anchors match hand computation, and the
// options are validated. Regenerate the golden list (only after a deliberate change of the reference):
//   /usr/bin/python3 tests/python/maskrcnn_reference.py params > tests/golden/maskrcnn.params.txt
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "models/maskrcnn/anchors.hpp"
#include "models/maskrcnn/frozen_batchnorm.hpp"
#include "models/maskrcnn/layers.hpp"
#include "models/maskrcnn/mask_rcnn.hpp"
#include "models/maskrcnn/resnet.hpp"
#include "models/state_dict.hpp"
#include "test_models_util.hpp"

namespace mr = sdn::models::maskrcnn;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

class MaskRcnnFull : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new mr::MaskRcnn(mr::MaskRcnnOptions{}); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static mr::MaskRcnn& model() { return *model_; }
  static mr::MaskRcnn* model_;
};
mr::MaskRcnn* MaskRcnnFull::model_ = nullptr;

}  // namespace

TEST_F(MaskRcnnFull, StateDictEqualsTheOriginal) {
  const std::string path = sdn_test::source_dir() + "/tests/golden/maskrcnn.params.txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path << " (set SDN_SOURCE_DIR to the source tree)";
  std::stringstream text;
  text << in.rdbuf();
  auto want = lines_of(text.str());
  auto got = lines_of(sdn::models::state_dict_listing(*model()));
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    const std::string w = i < want.size() ? want[i] : "<none>", g = i < got.size() ? got[i] : "<none>";
    ASSERT_EQ(g, w) << "first difference at state_dict entry " << i;
  }
}

TEST_F(MaskRcnnFull, CountsMatchTheOriginal) {
  EXPECT_EQ(sdn::models::parameter_count(*model()), 63627300);
  int64_t entries = 0, bn = 0, bn_params = 0;
  for (const auto& [name, t] : sdn::models::state_dict(*model()))
    if (name.find("num_batches_tracked") == std::string::npos) ++entries;
  for (const auto& m : model()->modules(false))
    if (auto* b = dynamic_cast<mr::FrozenBatchNorm2dImpl*>(m.get())) {
      ++bn;
      bn_params += b->weight.numel() + b->bias.numel();
    }
  EXPECT_EQ(entries, 690);
  EXPECT_EQ(bn, 110);
  EXPECT_EQ(bn_params, 111488);
}

TEST_F(MaskRcnnFull, EveryBatchNormIsFrozenAndEverythingElseTrains) {
  int64_t frozen = 0, trainable = 0;
  for (const auto& p : model()->named_parameters()) {
    const bool is_bn = p.key().find(".bn") != std::string::npos || p.key().rfind("fpn.C1.1.", 0) == 0 ||
                       p.key().find("downsample.1.") != std::string::npos;
    EXPECT_EQ(p.value().requires_grad(), !is_bn) << p.key();
    (p.value().requires_grad() ? trainable : frozen) += p.value().numel();
  }
  EXPECT_EQ(frozen, 111488);
  EXPECT_EQ(trainable, 63627300 - 111488);
}

TEST_F(MaskRcnnFull, CaffeStyleStridesAndEps) {
  auto& c3 = model()->fpn->C3;
  auto* block = c3[0]->as<mr::CaffeBottleneckImpl>();
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->conv1->options.stride()->at(0), 2);  // the stride sits on the 1x1 conv
  EXPECT_EQ(block->conv2->options.stride()->at(0), 1);
  EXPECT_DOUBLE_EQ(block->bn1->options.eps(), 1e-3);
  EXPECT_TRUE(block->conv1->bias.defined());
}

TEST_F(MaskRcnnFull, DefaultAnchorsCountAndOrder) {
  auto a = mr::generate_pyramid_anchors(mr::MaskRcnnOptions{});
  EXPECT_EQ(a.size(0), 3 * (256 * 256 + 128 * 128 + 64 * 64 + 32 * 32 + 16 * 16));  // 261,888
  EXPECT_EQ(a.size(0), 261888);
}

TEST(MaskRcnnAnchors, HandComputedBoxes) {
  mr::MaskRcnnOptions o;
  o.image_max_dim = 64;
  auto a = mr::generate_pyramid_anchors(o);
  ASSERT_EQ(a.size(0), 3 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1));
  const double r2 = std::sqrt(2.0);
  auto expect_box = [&](int64_t i, double y1, double x1, double y2, double x2) {
    EXPECT_NEAR(a[i][0].item<double>(), y1, 1e-4) << i;
    EXPECT_NEAR(a[i][1].item<double>(), x1, 1e-4) << i;
    EXPECT_NEAR(a[i][2].item<double>(), y2, 1e-4) << i;
    EXPECT_NEAR(a[i][3].item<double>(), x2, 1e-4) << i;
  };
  // P2, centre (0, 0), ratio 0.5: h = 32 / sqrt(0.5), w = 32 sqrt(0.5); no half-stride offset.
  expect_box(0, -16 * r2, -8 * r2, 16 * r2, 8 * r2);
  // P2 row 1, column 2, ratio 2: index (1 * 16 + 2) * 3 + 2, centre (4, 8), h = 32 / sqrt 2, w = 32 sqrt 2.
  expect_box((1 * 16 + 2) * 3 + 2, 4 - 8 * r2, 8 - 16 * r2, 4 + 8 * r2, 8 + 16 * r2);
  // P3 starts after the 768 P2 anchors: row 0, column 1, ratio 1 -> centre (0, 8), 64 x 64.
  expect_box(768 + 3 + 1, -32, 8 - 32, 32, 8 + 32);
  // The single P6 location, ratio 2.
  expect_box(a.size(0) - 1, -128 * r2, -256 * r2, 128 * r2, 256 * r2);
}

TEST(MaskRcnnOptions, ValidationListsEveryProblem) {
  mr::MaskRcnnOptions o;
  EXPECT_TRUE(mr::validate(o).empty());
  o.image_max_dim = 100;
  o.rpn_anchor_scales = {32, 64};
  auto bad = mr::validate(o);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("multiple of 64"), std::string::npos);
  EXPECT_THROW(mr::MaskRcnn{o}, sdn::UsageError);
}

TEST(MaskRcnnResnet, SamePaddingIsTfSame) {
  auto x = torch::ones({1, 1, 5, 5});
  // k 3, s 2 on 5: out 3, total pad (3 - 1) * 2 + 3 - 5 = 2 -> 1 each side; on 6: 1 -> 0 before, 1 after.
  EXPECT_EQ(mr::same_pad2d(x, 3, 2).sizes(), torch::IntArrayRef({1, 1, 7, 7}));
  auto y = mr::same_pad2d(torch::ones({1, 1, 6, 6}), 3, 2);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 7, 7}));
  EXPECT_EQ(y[0][0][0][0].item<float>(), 1.0f);  // nothing before
  EXPECT_EQ(y[0][0][6][6].item<float>(), 0.0f);  // one zero row/column after
  EXPECT_EQ(mr::same_pad2d(torch::ones({1, 1, 4, 4}), 3, 1).sizes(), torch::IntArrayRef({1, 1, 6, 6}));
}

TEST(MaskRcnnResnet, FrozenBatchNormUsesRunningStatisticsInTraining) {
  mr::FrozenBatchNorm2d bn(2);
  {
    torch::NoGradGuard g;
    bn->running_mean.copy_(torch::tensor({1.0f, -1.0f}));
    bn->running_var.copy_(torch::tensor({4.0f, 1.0f}));
    bn->weight.copy_(torch::tensor({2.0f, 1.0f}));
    bn->bias.copy_(torch::tensor({0.5f, 0.0f}));
  }
  bn->train();
  auto x = torch::full({3, 2, 1, 1}, 3.0f);
  auto y = bn(x);
  EXPECT_NEAR(y[0][0][0][0].item<float>(), 2.0f * (3.0f - 1.0f) / std::sqrt(4.0f + 1e-3f) + 0.5f, 1e-5);
  EXPECT_NEAR(y[2][1][0][0].item<float>(), 4.0f / std::sqrt(1.0f + 1e-3f), 1e-5);
  EXPECT_EQ(bn->running_mean[0].item<float>(), 1.0f);  // never updated
  EXPECT_FALSE(bn->weight.requires_grad());
}

TEST_F(MaskRcnnFull, LayerSetsCountAsTheOriginal) {
  // maskrcnn.md: each regex alone on a fresh model (BN weights never train) -> tensors / elements.
  auto count = [&](const std::string& layers) {
    std::pair<int64_t, int64_t> n{0, 0};
    for (const auto& p : model()->named_parameters())
      if (p.value().requires_grad() && mr::full_match(mr::layer_regex(layers), p.key())) {
        ++n.first;
        n.second += p.value().numel();
      }
    return n;
  };
  EXPECT_EQ(count("heads"), (std::pair<int64_t, int64_t>{42, 21068324}));
  EXPECT_EQ(count("4+"), (std::pair<int64_t, int64_t>{202, 62075940}));
  EXPECT_EQ(count("all"), (std::pair<int64_t, int64_t>{250, 63515812}));
  int64_t transfer = 0, tensors = 0;
  for (const auto& p : model()->named_parameters())
    if (mr::full_match(mr::transfer_layer_regex(), p.key())) {
      ++tensors;
      transfer += p.value().numel();
    }
  EXPECT_EQ(tensors, 6);
  EXPECT_EQ(transfer, 16146);
}

// The semantic models' architecture: state_dict names and shapes equal the checked-in lists derived from the
// original module definitions, parameter counts match the original, outputs have the documented shapes,
// initialisation is a function of the seed, and the registry rejects unknown names.
// Regenerate the golden lists (only after a deliberate change to the reference definitions):
//   /usr/bin/python3 bench/semantic_reference.py params resnet50dilated8_ppm_deepsup
//       > tests/golden/semantic_resnet50dilated8_ppm_deepsup.params.txt   (one command line)
//   /usr/bin/python3 bench/semantic_reference.py params drn_d_22 > tests/golden/drn_d_22.params.txt
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "models/drn.hpp"
#include "models/resnet_ppm_seg.hpp"
#include "models/segmentation_model.hpp"
#include "models/state_dict.hpp"
#include "models/sync_batchnorm.hpp"

namespace {

std::string golden_path(const std::string& name) {
  const char* src = std::getenv("SDN_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/golden/" + name;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

void expect_matches_golden(const torch::nn::Module& model, const std::string& file) {
  std::ifstream in(golden_path(file));
  ASSERT_TRUE(in) << "cannot read " << golden_path(file) << " (set SDN_SOURCE_DIR to the source tree)";
  std::stringstream text;
  text << in.rdbuf();
  auto want = lines_of(text.str());
  auto got = lines_of(sdn::models::state_dict_listing(model));
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    const std::string w = i < want.size() ? want[i] : "<none>", g = i < got.size() ? got[i] : "<none>";
    ASSERT_EQ(g, w) << "first difference at state_dict entry " << i << " of " << file;
  }
}

class ResnetPpm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new sdn::models::SegmentationModel(sdn::models::build_semantic_model({})); }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  static sdn::models::SegmentationModel& model() { return *model_; }
  static sdn::models::SegmentationModel* model_;
};
sdn::models::SegmentationModel* ResnetPpm::model_ = nullptr;

sdn::models::SegmentationModel drn(std::uint64_t seed = 304, int64_t classes = 14) {
  sdn::models::SemanticModelOptions o;
  o.arch = "drn_d_22";
  o.seed = seed;
  o.num_classes = classes;
  return sdn::models::build_semantic_model(o);
}

}  // namespace

TEST_F(ResnetPpm, StateDictEqualsTheOriginal) {
  expect_matches_golden(*model(), "semantic_resnet50dilated8_ppm_deepsup.params.txt");
}

TEST_F(ResnetPpm, CountsMatchTheOriginal) {
  EXPECT_EQ(sdn::models::parameter_count(*model()), 51439580);
  int64_t without_nbt = 0;
  for (const auto& [name, t] : sdn::models::state_dict(*model()))
    if (name.find("num_batches_tracked") == std::string::npos) ++without_nbt;
  const int64_t bn = sdn::models::count_sync_batchnorms(*model());
  EXPECT_EQ(bn, 61);
  // The original's 492 entries include its SynchronizedBatchNorm2d's three bookkeeping buffers
  // (_tmp_running_mean, _tmp_running_var, _running_iter), which the C++ layers carry too.
  EXPECT_EQ(without_nbt, 492);
}

TEST_F(ResnetPpm, DilationsGiveOutputStride8) {
  auto* m = dynamic_cast<sdn::models::ResnetPpmSegImpl*>(model().get());
  ASSERT_NE(m, nullptr);
  auto conv2 = [&](torch::nn::Sequential& layer, size_t block) {
    return layer[block]->as<sdn::models::BottleneckImpl>()->conv2->options;
  };
  EXPECT_EQ(conv2(m->encoder->layer2, 0).stride()->at(0), 2);
  EXPECT_EQ(conv2(m->encoder->layer3, 0).stride()->at(0), 1);
  EXPECT_EQ(conv2(m->encoder->layer3, 0).dilation()->at(0), 1);
  EXPECT_EQ(conv2(m->encoder->layer3, 1).dilation()->at(0), 2);
  EXPECT_EQ(conv2(m->encoder->layer4, 0).dilation()->at(0), 2);
  EXPECT_EQ(conv2(m->encoder->layer4, 2).dilation()->at(0), 4);
  EXPECT_EQ(c10::get<torch::ExpandingArray<2>>(conv2(m->encoder->layer4, 2).padding())->at(0), 4);
}

TEST_F(ResnetPpm, TrainAndInferenceOutputs) {
  torch::manual_seed(1);
  auto x = torch::randn({2, 3, 64, 48});
  model()->train();
  auto out = model()->forward_train(x);
  EXPECT_EQ(out.main.sizes(), torch::IntArrayRef({2, 14, 8, 6}));
  ASSERT_TRUE(out.deepsup.defined());
  EXPECT_EQ(out.deepsup.sizes(), torch::IntArrayRef({2, 14, 8, 6}));
  EXPECT_TRUE(torch::allclose(out.main.exp().sum(1), torch::ones({2, 8, 6}), 1e-4, 1e-4));
  model()->eval();
  torch::NoGradGuard no_grad;
  auto probs = model()->forward_infer(x, {61, 45});
  EXPECT_EQ(probs.sizes(), torch::IntArrayRef({2, 14, 61, 45}));
  EXPECT_TRUE(torch::allclose(probs.sum(1), torch::ones({2, 61, 45}), 1e-4, 1e-4));
  EXPECT_GE(probs.min().item<float>(), 0.0f);
}

TEST(DrnD22, StateDictEqualsTheOriginal) { expect_matches_golden(*drn(), "drn_d_22.params.txt"); }

TEST(DrnD22, OutputsAndFixedUpsampling) {
  auto model = drn();
  EXPECT_FALSE(model->has_deepsup());
  torch::manual_seed(2);
  auto x = torch::randn({2, 3, 32, 40});
  auto out = model->forward_train(x);
  EXPECT_EQ(out.main.sizes(), torch::IntArrayRef({2, 14, 4, 5}));
  EXPECT_FALSE(out.deepsup.defined());
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward_infer(x, {32, 40}).sizes(), torch::IntArrayRef({2, 14, 32, 40}));
  EXPECT_EQ(model->forward_infer(x, {30, 37}).sizes(), torch::IntArrayRef({2, 14, 30, 37}));

  auto* m = dynamic_cast<sdn::models::DrnSegImpl*>(model.get());
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->up->weight.requires_grad());
  const auto trainable = model->trainable_parameters();
  for (const auto& p : trainable) EXPECT_FALSE(p.is_same(m->up->weight));
  EXPECT_EQ(trainable.size() + 1, model->parameters().size());
  // fyu/drn's kernel: f = 8, c = 15/16, w(i, j) = (1 - |i/8 - c|)(1 - |j/8 - c|).
  auto k = m->up->weight;
  EXPECT_FLOAT_EQ(k[3][0][7][7].item<float>(), 0.87890625f);
  EXPECT_FLOAT_EQ(k[0][0][0][0].item<float>(), 0.00390625f);
  EXPECT_FLOAT_EQ(k[5][0][0][15].item<float>(), 0.00390625f);
  // Bilinear up-sampling keeps a constant map constant away from the border.
  auto up = m->up(torch::ones({1, 14, 4, 4}));
  EXPECT_TRUE(torch::allclose(up.slice(2, 4, 28).slice(3, 4, 28), torch::ones({1, 14, 24, 24}), 1e-5, 1e-5));
}

TEST(SemanticModels, InitialWeightsAreAFunctionOfTheSeed) {
  auto a = sdn::models::state_dict(*drn(1)), b = sdn::models::state_dict(*drn(1)), c = sdn::models::state_dict(*drn(2));
  ASSERT_EQ(a.size(), b.size());
  bool any_different = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    if (a[i].second.is_floating_point() && !torch::equal(a[i].second, c[i].second)) any_different = true;
  }
  EXPECT_TRUE(any_different);
}

TEST(SemanticModels, RegistryNamesAndErrors) {
  const auto& names = sdn::models::semantic_model_names();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "resnet50dilated8_ppm_deepsup");
  EXPECT_EQ(names[1], "drn_d_22");
  sdn::models::SemanticModelOptions o;
  o.arch = "drn_d_23";
  try {
    sdn::models::build_semantic_model(o);
    FAIL();
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("drn_d_22"), std::string::npos) << e.what();
  }
  EXPECT_EQ(drn(304, 19)->forward_train(torch::randn({2, 3, 16, 16})).main.size(1), 19);
}

TEST(SemanticModels, SyncBatchNormsAreLabelledWithTheirNames) {
  auto model = drn();
  auto* m = dynamic_cast<sdn::models::DrnSegImpl*>(model.get());
  auto* bn = m->base[3]->as<torch::nn::SequentialImpl>()->ptr(0)->as<sdn::models::BasicBlockImpl>()->bn2.get();
  EXPECT_EQ(bn->label(), "base.3.0.bn2");
}

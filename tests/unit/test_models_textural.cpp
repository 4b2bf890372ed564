// The textural nets' architecture and input encoding: state_dict names and shapes equal the lists derived
// from the original module definitions (bench/textural_reference.py), parameter counts match the original,
// initialisation follows pix2pixHD's weights_init and the seed, outputs have the documented shapes, the
// instance pooling gives one code per instance, and the input encoding reproduces encode_input/vkitti_dataset.
// Regenerate the golden lists (only after a deliberate change to the reference definitions):
//   for n in netG netE netD; do
//     /usr/bin/python3 bench/textural_reference.py params $n > tests/golden/textural_$n.params.txt; done
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "models/state_dict.hpp"
#include "models/textural/global_generator.hpp"
#include "models/textural/instance_encoder.hpp"
#include "models/textural/multiscale_discriminator.hpp"
#include "models/textural/textural_inputs.hpp"
#include "models/textural/vgg19.hpp"
#include "test_models_textural_util.hpp"
#include "test_models_util.hpp"

namespace {

namespace tx = sdn::models::textural;
using torch::indexing::Slice;

void expect_matches_golden(const torch::nn::Module& model, const std::string& file) {
  const std::string path = sdn_test::source_dir() + "/tests/golden/" + file;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path << " (set SDN_SOURCE_DIR to the source tree)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(sdn::models::state_dict_listing(model), want.str()) << file;
}

}  // namespace

TEST(TexturalArch, NetGEqualsTheOriginal) {
  tx::GlobalGenerator g;  // 48 -> 3, ngf 64, 4 downsamplings, 9 blocks: ~0.7 GB of weights, no forward
  expect_matches_golden(*g, "textural_netG.params.txt");
  EXPECT_EQ(sdn::models::parameter_count(*g), 182584387);
}

TEST(TexturalArch, NetEAndNetDEqualTheOriginal) {
  tx::InstanceEncoder e;
  expect_matches_golden(*e, "textural_netE.params.txt");
  EXPECT_EQ(sdn::models::parameter_count(*e), 790373);
  tx::MultiscaleDiscriminator d;
  expect_matches_golden(*d, "textural_netD.params.txt");
  EXPECT_EQ(sdn::models::parameter_count(*d), 5560194);
  tx::Vgg19 vgg;
  EXPECT_EQ(sdn::models::parameter_count(*vgg), 12944960);  // torchvision vgg19 features 0..28
  for (const auto& p : vgg->parameters()) EXPECT_FALSE(p.requires_grad());
  EXPECT_EQ(sdn::models::state_dict(*vgg).back().first, "features.28.bias");
}

TEST(TexturalArch, Pix2PixHDInitAndSeeds) {
  tx::MultiscaleDiscriminator a, b, c(tx::MultiscaleDiscriminatorOptions().seed(7));
  auto w = a->layers[0][2]->ptr(0)->as<torch::nn::Conv2dImpl>()->weight;  // 128 -> 256, 4x4: 524288 draws
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 1e-3);
  EXPECT_NEAR(w.std().item<double>(), 0.02, 1e-3);
  auto bias = a->layers[0][2]->ptr(0)->as<torch::nn::Conv2dImpl>()->bias;
  const double bound = 1.0 / std::sqrt(128.0 * 16.0);
  EXPECT_LE(bias.abs().max().item<double>(), bound);
  EXPECT_GT(bias.abs().max().item<double>(), 0.5 * bound);
  sdn_test::expect_bit_equal(*a, *b);
  EXPECT_FALSE(torch::equal(w, c->layers[0][2]->ptr(0)->as<torch::nn::Conv2dImpl>()->weight));
  // ConvTranspose2d weights are initialised too (classname 'ConvTranspose2d' contains 'Conv').
  tx::InstanceEncoder e;
  bool found = false;
  for (auto& m : e->modules())
    if (auto* t = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(m.get())) {
      EXPECT_NEAR(t->weight.std().item<double>(), 0.02, 2e-3);
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(TexturalArch, TinyForwardShapesAndRunningStats) {
  tx::TexturalNets nets(sdn_test::tiny_textural());
  auto batch = sdn_test::tiny_batch(3);
  auto gen = nets.generate(batch);
  EXPECT_EQ(gen.label_edges.sizes(), torch::IntArrayRef({2, 15, 32, 32}));
  EXPECT_EQ(gen.features.sizes(), torch::IntArrayRef({2, 5, 32, 32}));
  EXPECT_EQ(gen.fake.sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_LE(gen.fake.abs().max().item<float>(), 1.0f);
  auto d = nets.netD->forward(tx::discriminator_input(gen.label_edges, batch.real));
  ASSERT_EQ(d.size(), 2u);
  ASSERT_EQ(d[0].size(), 5u);
  const std::vector<std::vector<int64_t>> full{{8, 17, 17}, {16, 9, 9}, {32, 5, 5}, {64, 6, 6}, {1, 7, 7}};
  const std::vector<std::vector<int64_t>> half{{8, 9, 9}, {16, 5, 5}, {32, 3, 3}, {64, 4, 4}, {1, 5, 5}};
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_EQ(d[0][j].sizes().slice(1), torch::IntArrayRef(full[j])) << j;
    EXPECT_EQ(d[1][j].sizes().slice(1), torch::IntArrayRef(half[j])) << j;
  }
  // Training-mode InstanceNorm updates the running statistics (momentum 0.1) like torch's, which never
  // counts num_batches_tracked for InstanceNorm.
  auto* norm = nets.netG->model->ptr(2)->as<torch::nn::InstanceNorm2dImpl>();
  ASSERT_NE(norm, nullptr);
  EXPECT_GT(norm->running_mean.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(norm->num_batches_tracked.item<int64_t>(), 0);
}

TEST(TexturalInputs, InstanceMeanPoolGivesOneCodePerInstance) {
  torch::manual_seed(4);
  auto f = torch::randn({2, 3, 4, 5}, torch::requires_grad());
  auto inst = torch::zeros({2, 1, 4, 5});
  inst.index_put_({0, 0, Slice(0, 2), Slice()}, 7000);
  inst.index_put_({1, 0, Slice(), Slice(0, 2)}, 7000);  // same id in the other image: kept apart
  auto p = tx::instance_mean_pool(f, inst);
  for (int64_t b = 0; b < 2; ++b)
    for (double id : {0.0, 7000.0}) {
      auto m = (inst[b][0] == id);
      for (int64_t c = 0; c < 3; ++c) {
        auto want = f[b][c].masked_select(m).mean();
        EXPECT_TRUE(torch::allclose(p[b][c].masked_select(m), want.expand({m.sum().item<int64_t>()}), 1e-6, 1e-6));
      }
    }
  // d(sum of pooled)/d(feature) = 1 everywhere: each instance mean is spread back over its pixels.
  p.sum().backward();
  EXPECT_TRUE(torch::allclose(f.grad(), torch::ones_like(f), 1e-5, 1e-6));
  EXPECT_THROW(tx::instance_mean_pool(f, inst.squeeze(1)), sdn::Error);
}

TEST(TexturalInputs, OneHotAndEdges) {
  auto labels = torch::tensor({0, 3, 13, 3}, torch::kLong).view({1, 1, 2, 2});
  auto oh = tx::one_hot_map(labels, 14);
  EXPECT_EQ(oh.sizes(), torch::IntArrayRef({1, 14, 2, 2}));
  EXPECT_TRUE(torch::equal(oh.sum(1), torch::ones({1, 2, 2})));
  EXPECT_EQ(oh[0][13][1][0].item<float>(), 1.0f);
  EXPECT_THROW(tx::one_hot_map(labels, 13), sdn::Error);
  // A 2x2 block of id 5 in a 4x5 map of 1s: the block and its 4-neighbours are edges, diagonals are not.
  auto inst = torch::ones({1, 1, 4, 5});
  inst.index_put_({0, 0, Slice(1, 3), Slice(1, 3)}, 5000);
  auto e = tx::instance_edges(inst)[0][0];
  auto want = torch::tensor({{0, 1, 1, 0, 0}, {1, 1, 1, 1, 0}, {1, 1, 1, 1, 0}, {0, 1, 1, 0, 0}}, torch::kFloat);
  EXPECT_TRUE(torch::equal(e, want)) << e;
}

TEST(TexturalInputs, LabelsInstancesAsTheDataset) {
  // Semantic classes 1 (Car after +1 = 2), 11 (Van, 12), 3; objects: one car with id 4.
  auto semantic = torch::tensor({1, 1, 11, 3}, torch::kLong).view({1, 1, 2, 2});
  auto objects = torch::tensor({4, 0, 0, 0}, torch::kLong).view({1, 1, 2, 2});
  auto li = tx::compose_label_and_instances(semantic, objects);
  EXPECT_TRUE(torch::equal(li.labels.flatten(), torch::tensor({2, 5, 5, 4}, torch::kLong)));
  EXPECT_TRUE(torch::equal(li.instances.flatten(), torch::tensor({4000, 5, 5, 4}, torch::kFloat)));
}

TEST(TexturalInputs, PoseBinsAsNumpyDigitize) {
  EXPECT_EQ(tx::pose_bin(-M_PI), 1);
  EXPECT_EQ(tx::pose_bin(std::nextafter(-M_PI, -4.0)), 0);
  EXPECT_EQ(tx::pose_bin(0.0), 13);
  EXPECT_EQ(tx::pose_bin(-1e-9), 12);
  EXPECT_EQ(tx::pose_bin(M_PI / 12.0), 14);  // exactly on the 15-degree edge
  EXPECT_EQ(tx::pose_bin(std::nextafter(M_PI, 0.0)), 24);
  EXPECT_EQ(tx::pose_bin(M_PI), 24);  // the original's 25, clamped (see textural_inputs.hpp)
  auto objects = torch::tensor({0, 1, 2, 3}, torch::kLong).view({1, 1, 2, 2});
  auto bins = tx::pose_bins(objects, {{{1, 0.0}, {2, -M_PI}}});  // object 3 has no pose entry
  EXPECT_TRUE(torch::equal(bins.flatten(), torch::tensor({0, 13, 1, 0}, torch::kLong)));
  EXPECT_THROW(tx::pose_bins(objects, {}), sdn::Error);
}

TEST(TexturalInputs, NormalsAndChannelCounts) {
  auto rgb = torch::tensor({0, 255, 128}, torch::kUInt8).view({1, 3, 1, 1});
  auto n = tx::normal_channels(rgb).flatten();
  EXPECT_FLOAT_EQ(n[0].item<float>(), -1.0f + 1.0f / 255.0f);
  EXPECT_FLOAT_EQ(n[1].item<float>(), 1.0f + 1.0f / 255.0f);
  EXPECT_NEAR(n[2].item<float>(), (128.0 / 255.0 - 0.5) / 0.5 + 1.0 / 255.0, 1e-6);
  auto batch = sdn_test::tiny_batch(5);
  auto le = tx::label_and_edges(batch.labels, batch.instances);
  auto g_in = tx::generator_input(le, torch::zeros({2, 5, 32, 32}), batch.pose, batch.normals);
  EXPECT_EQ(g_in.size(1), 48);
  EXPECT_EQ(tx::discriminator_input(le, batch.real).size(1), 18);
  // Channel order: labels, edge, features, pose one-hot, normals.
  EXPECT_TRUE(torch::equal(g_in.slice(1, 20, 45).argmax(1, true), batch.pose));
  EXPECT_TRUE(torch::equal(g_in.slice(1, 45, 48), batch.normals));
  EXPECT_THROW(tx::generator_input(le, torch::zeros({2, 5, 16, 32}), batch.pose, batch.normals), sdn::Error);
}

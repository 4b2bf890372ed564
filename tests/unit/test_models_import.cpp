// Mapped weight import (model.init_weights + init_map + init_skip): prefix rewrites (first match wins),
// keys left at their init by the skip regex or as optional, the report of loaded / missing / unexpected /
// mismatched keys, strict refusal naming every problem at once before anything is copied, and the parser of
// "from=to" entries. Also the ImageNet-encoder map (the checks against a torch-made file are in
// test_models_bn_python.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.hpp"
#include "models/encoder_weights.hpp"
#include "models/sync_batchnorm.hpp"
#include "models/weights_io.hpp"
#include "test_models_util.hpp"

namespace {

namespace m = sdn::models;
using sdn_test::temp_file;
using sdn_test::TempFiles;

// A bare "backbone" file: conv, bn (torch kind), fc; as an ImageNet classifier would be laid out.
struct BackboneImpl : torch::nn::Module {
  explicit BackboneImpl(int64_t fc_out = 10) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    bn = register_module("bn", m::SyncBatchNorm2d(4));
    fc = register_module("fc", torch::nn::Linear(4, fc_out));
  }
  torch::nn::Conv2d conv{nullptr};
  m::SyncBatchNorm2d bn{nullptr};
  torch::nn::Linear fc{nullptr};
};

// The model it goes into: the backbone without fc under encoder., plus a decoder.
struct ModelImpl : torch::nn::Module {
  ModelImpl() {
    encoder = register_module("encoder", torch::nn::Sequential());
    encoder->push_back("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    encoder->push_back("bn", m::SyncBatchNorm2d(4));
    decoder = register_module("decoder", torch::nn::Linear(4, 3));
  }
  torch::nn::Sequential encoder{nullptr};
  torch::nn::Linear decoder{nullptr};
};

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string export_backbone(TempFiles& tmp, int seed, int64_t fc_out = 10) {
  torch::manual_seed(seed);
  auto b = std::make_shared<BackboneImpl>(fc_out);
  sdn_test::perturb_buffers(*b, seed);
  tmp.paths.push_back(temp_file("backbone" + std::to_string(seed) + ".h5"));
  m::export_weights(*b, "backbone", tmp.paths.back());
  return tmp.paths.back();
}

torch::Tensor file_tensor(const std::string& path, const std::string& key, int64_t fc_out = 10) {
  torch::manual_seed(0);
  auto b = std::make_shared<BackboneImpl>(fc_out);
  m::import_weights(*b, "backbone", path);
  for (auto& [k, t] : m::state_dict(*b))
    if (k == key) return t.clone();
  return {};
}

}  // namespace

TEST(ImportMap, ParsePrefixRewrite) {
  auto r = m::parse_prefix_rewrite("=encoder.");
  EXPECT_EQ(r.from, "");
  EXPECT_EQ(r.to, "encoder.");
  r = m::parse_prefix_rewrite("module.=");
  EXPECT_EQ(r.from, "module.");
  EXPECT_EQ(r.to, "");
  r = m::parse_prefix_rewrite("a.=b=c.");  // the first '=' splits
  EXPECT_EQ(r.from, "a.");
  EXPECT_EQ(r.to, "b=c.");
  try {
    m::parse_prefix_rewrite("encoder.");
    FAIL() << "an entry without '=' was accepted";
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'encoder.'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("from=to"), std::string::npos) << e.what();
  }
}

TEST(ImportMap, RewriteAndSkipPutABackboneUnderEncoder) {
  TempFiles tmp;
  const auto path = export_backbone(tmp, 3);
  auto model = std::make_shared<ModelImpl>();
  const auto decoder_before = model->decoder->weight.clone();
  m::ImportMap map;
  map.rewrites = {{"", "encoder."}};
  map.skip = R"(encoder\.fc\..*|decoder\..*)";
  auto report = m::import_weights_mapped(*model, path, map);
  EXPECT_TRUE(report.clean()) << report.summary();
  EXPECT_EQ(report.loaded.size(), 7u);  // conv weight/bias, bn weight/bias/mean/var/count
  EXPECT_TRUE(has(report.left_at_init, "decoder.weight"));
  EXPECT_TRUE(has(report.left_at_init, "decoder.bias"));
  EXPECT_TRUE(torch::equal(model->decoder->weight, decoder_before));
  auto sd = m::state_dict(*model);
  for (const char* key : {"conv.weight", "bn.running_var", "bn.num_batches_tracked"}) {
    auto it = std::find_if(sd.begin(), sd.end(), [&](auto& e) { return e.first == std::string("encoder.") + key; });
    ASSERT_NE(it, sd.end()) << key;
    EXPECT_TRUE(torch::equal(it->second, file_tensor(path, key))) << key;
  }
}

TEST(ImportMap, StrictNamesEveryProblemAtOnceAndCopiesNothing) {
  TempFiles tmp;
  const auto path = export_backbone(tmp, 4);
  auto model = std::make_shared<ModelImpl>();
  auto before = m::state_dict(*model);
  std::vector<torch::Tensor> copies;
  for (auto& [k, t] : before) copies.push_back(t.clone());
  m::ImportMap map;
  map.rewrites = {{"", "encoder."}};
  try {
    m::import_weights_mapped(*model, path, map);
    FAIL() << "strict import accepted a file with unexpected keys and a model with missing ones";
  } catch (const sdn::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("missing: decoder.weight [3,4]"), std::string::npos) << what;
    EXPECT_NE(what.find("missing: decoder.bias [3]"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected: fc.weight -> encoder.fc.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected: fc.bias -> encoder.fc.bias"), std::string::npos) << what;
    EXPECT_NE(std::string(e.hint()).find("model.init_skip"), std::string::npos) << e.hint();
    EXPECT_NE(std::string(e.hint()).find("model.init_map"), std::string::npos) << e.hint();
  }
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i].second, copies[i])) << before[i].first;
}

TEST(ImportMap, NonStrictLoadsWhatFitsAndReportsTheRest) {
  TempFiles tmp;
  const auto path = export_backbone(tmp, 5, /*fc_out=*/3);  // fc [3,4] fits decoder [3,4]; bias [3] fits
  auto model = std::make_shared<ModelImpl>();
  {
    torch::NoGradGuard g;
    model->encoder[0]->as<torch::nn::Conv2dImpl>()->weight.zero_();
  }
  m::ImportMap map;
  // First match wins: fc. goes to decoder., everything else under encoder.; conv gets a wrong target.
  map.rewrites = {{"fc.", "decoder."}, {"conv.weight", "encoder.conv.nonexistent"}, {"", "encoder."}};
  map.strict = false;
  auto report = m::import_weights_mapped(*model, path, map);
  EXPECT_FALSE(report.clean());
  EXPECT_TRUE(has(report.loaded, "decoder.weight")) << report.summary();
  EXPECT_TRUE(has(report.loaded, "encoder.conv.bias")) << report.summary();
  EXPECT_TRUE(has(report.missing, "encoder.conv.weight [4,3,3,3]")) << report.summary();
  EXPECT_TRUE(has(report.unexpected, "conv.weight -> encoder.conv.nonexistent")) << report.summary();
  EXPECT_TRUE(model->encoder[0]->as<torch::nn::Conv2dImpl>()->weight.abs().sum().item<double>() == 0.0);
  EXPECT_TRUE(torch::equal(model->decoder->weight, file_tensor(path, "fc.weight", 3)));
}

TEST(ImportMap, ShapeMismatchesAreReportedAndLeftAlone) {
  TempFiles tmp;
  const auto path = export_backbone(tmp, 6, /*fc_out=*/10);  // fc [10,4] vs decoder [3,4]
  auto model = std::make_shared<ModelImpl>();
  const auto before = model->decoder->weight.clone();
  m::ImportMap map;
  map.rewrites = {{"fc.", "decoder."}, {"", "encoder."}};
  map.strict = false;
  auto report = m::import_weights_mapped(*model, path, map);
  EXPECT_TRUE(has(report.mismatched, "decoder.weight: [10,4] in the file, [3,4] in the model")) << report.summary();
  EXPECT_TRUE(has(report.mismatched, "decoder.bias: [10] in the file, [3] in the model")) << report.summary();
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  EXPECT_TRUE(torch::equal(model->decoder->weight, before));
  map.strict = true;
  EXPECT_THROW(m::import_weights_mapped(*model, path, map), sdn::Error);
}

TEST(ImportMap, OptionalKeysMayBeAbsentAndDuplicatesAreRefused) {
  TempFiles tmp;
  const auto path = export_backbone(tmp, 7);
  // The model's BN has the original's bookkeeping buffers, which the file lacks.
  struct Orig : torch::nn::Module {
    Orig() { bn = register_module("bn", m::original_sync_bn(4)); }
    m::SyncBatchNorm2d bn{nullptr};
  };
  auto model = std::make_shared<Orig>();
  m::ImportMap map;
  map.skip = R"((conv|fc)\..*)";
  EXPECT_THROW(m::import_weights_mapped(*model, path, map), sdn::Error);  // bookkeeping buffers missing
  map.optional = R"(.*\.(_tmp_running_mean|_tmp_running_var|_running_iter))";
  auto report = m::import_weights_mapped(*model, path, map);
  EXPECT_TRUE(report.clean()) << report.summary();
  EXPECT_TRUE(has(report.left_at_init, "bn._running_iter"));
  EXPECT_EQ(model->bn->running_iter.item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(model->bn->running_var, file_tensor(path, "bn.running_var")));

  m::ImportMap dup;
  dup.rewrites = {{"conv.", "x."}, {"fc.", "x."}};
  try {
    m::import_weights_mapped(*model, path, dup);
    FAIL() << "two file keys mapped to one model key";
  } catch (const sdn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("both map to 'x."), std::string::npos) << e.what();
  }
  m::ImportMap bad;
  bad.skip = "(";
  EXPECT_THROW(m::import_weights_mapped(*model, path, bad), sdn::UsageError);
}

TEST(ImportMap, EncoderMapIsOnlyForTheResnetModel) {
  auto map = m::encoder_import_map("resnet50dilated8_ppm_deepsup");
  ASSERT_EQ(map.rewrites.size(), 1u);
  EXPECT_EQ(map.rewrites[0].to, "encoder.");
  EXPECT_TRUE(map.strict);
  try {
    m::encoder_import_map("drn_d_22");
    FAIL() << "drn_d_22 accepted ImageNet encoder weights";
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("drn_d_22"), std::string::npos) << e.what();
  }
}

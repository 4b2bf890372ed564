// The textural stage's own parts without shards: its config checks, the crop pipeline (scale width, random
// crop keyed by the step and item, centre crop for eval, flip without mirroring the poses), the ground-truth
// encoding of a batch, the two phases (D reuses G's fake) and the 100 + 100 epoch rate.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "models/textural/textural_inputs.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/textural_stage.hpp"

using namespace sdn;
using namespace sdn::train;

namespace {

const std::vector<std::string> kTiny = {
    "--stage", "textural", "--run-dir", "r", "--data.shards", "s", "--textural.vgg_loss", "false",
    "--textural.ngf", "4", "--textural.n_downsample_global", "2", "--textural.n_blocks_global", "1",
    "--textural.nef", "4", "--textural.n_downsample_E", "2", "--textural.ndf", "4", "--textural.n_layers_D", "2",
    "--textural.niter", "1", "--textural.niter_decay", "2", "--train.epochs", "3"};

// The tiny stage's config; the frame is scaled to `load_width` and cropped to crop_w x crop_h.
TrainConfig tiny(const char* load_width = "40", const char* crop_w = "16", const char* crop_h = "8",
                 std::vector<std::string> more = {}) {
  auto args = kTiny;
  args.insert(args.end(), {"--textural.load_width", load_width, "--textural.crop_width", crop_w,
                           "--textural.crop_height", crop_h});
  args.insert(args.end(), more.begin(), more.end());
  return parse_train_args(args).config;
}

// A 80x24 frame (scaled to 40x12): pixel (x, y) has RGB (x, y, 7), a car (class 2) in the box x 20..39 whose
// left half is instance track 4 (id 5), the rest Road (5).
data::Sample frame() {
  data::Sample s;
  s.index = s.item = 3;
  s.width = 80, s.height = 24;
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x) {
      s.rgb.insert(s.rgb.end(), {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(y), 7});
      s.classes.push_back(x >= 20 && x < 40 ? 2 : 5);
      s.instance.push_back(x >= 20 && x < 30 ? 5 : 0);
    }
  data::ObjectGT car;
  car.track_id = 4;
  car.class_id = 2;
  car.alpha = 0.1f;
  s.objects.push_back(car);
  return s;
}

}  // namespace

TEST(TexturalStage, ConfigNamesMissingVggWeightsAndTheEpochRule) {
  try {
    parse_train_args({"--stage", "textural", "--run-dir", "r", "--data.shards", "s", "--train.epochs", "5"});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("textural.vgg_weights"), std::string::npos) << m;
    EXPECT_NE(m.find("train.epochs = 5"), std::string::npos) << m;
  }
  EXPECT_THROW(tiny("40", "18", "8"), UsageError);  // not a multiple of 2^2
}

TEST(TexturalStage, CentreCropScalesTheWidthAndKeepsPlanesAligned) {
  const auto c = tiny();
  TexturalStage st(c, {});
  const auto s = frame();
  auto p = st.planes(s, nullptr, nullptr);
  ASSERT_EQ(p.width, 16);
  ASSERT_EQ(p.height, 8);
  // 40x12 after scaling: the centre crop starts at (12, 2); scaled pixel x covers source x 2x..2x+1.
  EXPECT_EQ(p.labels[0], 2);  // scaled x 12 = source x 25 (nearest): the car, still Car before batch() relabels
  const int sx0 = p.rgb[0], sy0 = p.rgb[1];
  EXPECT_NEAR(sx0, 2 * 12 + 0.5, 1.0);
  EXPECT_NEAR(sy0, 2 * 2 + 0.5, 1.0);
  // Labels and objects move with the image: the car's instance covers scaled x 10..14 = crop x 0..2.
  EXPECT_EQ(p.objects[0], 5);
  EXPECT_EQ(p.objects[3], 0);
  EXPECT_EQ(p.alpha_of.at(5), 0.1f);
}

TEST(TexturalStage, RandomCropIsKeyedAndTheFlipKeepsThePoses) {
  const auto c = tiny();
  TexturalStage st(c, {});
  const auto s = frame();
  KeyedRng a({1, 2, 3}), b({1, 2, 3});
  auto pa = st.planes(s, nullptr, &a), pb = st.planes(s, nullptr, &b);
  EXPECT_EQ(pa.rgb, pb.rgb);
  EXPECT_EQ(pa.objects, pb.objects);
  bool flipped = false, moved = false;
  for (std::uint64_t k = 0; k < 64; ++k) {
    KeyedRng r({k});
    auto p = st.planes(s, nullptr, &r);
    // The red channel (source x) decreases along a row exactly when the crop was flipped.
    flipped |= p.rgb[0] > p.rgb[3];
    moved |= p.rgb[0] != pa.rgb[0];
    EXPECT_EQ(p.alpha_of.at(5), 0.1f);  // alpha is never mirrored (the original keeps its JSON value)
  }
  EXPECT_TRUE(flipped);
  EXPECT_TRUE(moved);
}

TEST(TexturalStage, GroundTruthBatchRelabelsCarsWithoutObjectsAndBinsThePose) {
  const auto c = tiny("0", "80", "24");
  TexturalStage st(c, {});
  auto b = st.batch({st.planes(frame(), nullptr, nullptr)});
  ASSERT_EQ(b.labels.sizes(), (std::vector<int64_t>{1, 1, 24, 80}));
  EXPECT_EQ(b.labels[0][0][0][25].item<int64_t>(), 2);   // car pixel with its object
  EXPECT_EQ(b.labels[0][0][0][35].item<int64_t>(), 5);   // car pixel without one -> Road
  EXPECT_EQ(b.instances[0][0][0][25].item<float>(), 5000.0f);
  EXPECT_EQ(b.instances[0][0][0][35].item<float>(), 5.0f);
  EXPECT_EQ(b.pose[0][0][0][25].item<int64_t>(), models::textural::pose_bin(0.1f));
  EXPECT_EQ(b.pose[0][0][0][35].item<int64_t>(), 0);
  EXPECT_NEAR(b.real[0][0][0][1].item<float>(), (1 / 255.0 - 0.5) / 0.5, 1e-6);
}

TEST(TexturalStage, PhaseDReusesTheFakeOfPhaseGAndTheRateFollowsTheEpochs) {
  const auto c = tiny();
  TexturalStage st(c, {});
  ASSERT_EQ(st.phases().size(), 2u);
  EXPECT_EQ(st.phases()[0].name, "G");
  EXPECT_EQ(st.phases()[1].name, "D");
  EXPECT_EQ(st.phases()[0].params.front().first.rfind("netG.", 0), 0u);
  EXPECT_EQ(st.phases()[0].params.back().first.rfind("netE.", 0), 0u);
  EXPECT_THROW(st.loss(1, 0, {frame()}), Error);  // D before G
  st.begin_step(0);
  auto g = st.loss(0, 0, {frame()});
  ASSERT_TRUE(g.total.requires_grad());
  ASSERT_EQ(g.terms.size(), 4u);
  auto d = st.loss(1, 0, {frame()});
  ASSERT_EQ(d.terms.size(), 2u);
  EXPECT_EQ(d.terms[0].first, "D/real");
  // The D loss only reaches D's parameters: the fake was detached.
  d.total.backward();
  for (auto& [name, p] : st.phases()[0].params)
    EXPECT_FALSE(p.grad().defined() && p.grad().abs().sum().item<double>() > 0) << name;
  st.end_step();
  // 3 epochs of 10 steps: 1 at the base rate, then base - base/2 ... : epochs 0 and 1 at 2e-4, epoch 2 at 1e-4.
  EXPECT_DOUBLE_EQ(st.lr(0, 0, 30), 2e-4);
  EXPECT_DOUBLE_EQ(st.lr(1, 19, 30), 2e-4);
  EXPECT_DOUBLE_EQ(st.lr(0, 20, 30), 1e-4);
}

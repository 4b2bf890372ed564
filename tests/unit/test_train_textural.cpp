// The textural stage's own parts without shards: its config checks, the crop pipeline (scale width, random
// crop keyed by the step and item, centre crop for eval, flip without mirroring the poses), the ground-truth
// encoding of a batch, the predicted encoding from a semantic and a derenderer `sdn predict` output, the two
// phases (D reuses G's fake), the 100 + 100 epoch rate and the ground-truth normal maps of posed meshes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
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

// A semantic and a derenderer `sdn predict` output for frame() as world w, variation v, frame 3: semantic
// Car (1) in x 20..39, else Road (4); the derenderer's object 2 (alpha 2.0) in x 30..34, object 7 (no JSON
// entry: a ground-truth mask it did not derender) in x 50..54; normals (x, y, 200) on the objects, else 127.
struct Predicted {
  std::string root = (std::filesystem::temp_directory_path() / "sdn_textural_predicted").string();
  std::string semantic = root + "/semantic", geometric = root + "/geometric";
  Predicted() {
    std::filesystem::remove_all(root);
    fs::ensure_writable_dir(semantic + "/w/v");
    fs::ensure_writable_dir(geometric + "/w/v");
    const int W = 80, H = 24;
    data::img::Image8 sem{W, H, 1, {}}, inst{W, H, 1, {}}, normal{W, H, 3, {}};
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        sem.pixels.push_back(x >= 20 && x < 40 ? 1 : 4);
        const std::uint8_t k = x >= 30 && x < 35 ? 2 : x >= 50 && x < 55 ? 7 : 0;
        inst.pixels.push_back(k);
        for (std::uint8_t v : {std::uint8_t(x), std::uint8_t(y), std::uint8_t(200)})
          normal.pixels.push_back(k ? v : 127);
      }
    data::img::Palette grey;
    for (int v = 0; v < 256; ++v) grey.push_back({std::uint8_t(v), std::uint8_t(v), std::uint8_t(v)});
    data::img::write_png_palette(semantic + "/w/v/00003.png", sem, grey);
    data::img::write_png_palette(geometric + "/w/v/00003.png", inst, grey);
    data::img::write_png_rgb8(geometric + "/w/v/00003-normal.png", normal);
    fs::write_atomic(geometric + "/w/v/00003.json", R"({"2": {"class_id": 2, "depth": 9.5, "alpha": 2.0}})");
  }
  ~Predicted() { std::filesystem::remove_all(root); }
};

TEST(TexturalStage, PredictedBatchReadsInstancesPosesAndNormalsOfTheDerenderer) {
  Predicted d;
  const auto c = tiny("0", "80", "24",
                      {"--textural.inputs", "predicted", "--textural.semantic_dir", d.semantic,
                       "--textural.geometric_dir", d.geometric});
  TexturalStage st(c, {});
  const data::SampleInfo info{"w", "v", 3, 0};
  auto b = st.batch({st.planes(frame(), &info, nullptr)});
  ASSERT_EQ(b.pose.sizes(), (std::vector<int64_t>{1, 1, 24, 80}));
  // vkitti_dataset.py: objects k -> k * 1000; Car pixels without an object -> Road; other pixels their label.
  EXPECT_EQ(b.labels[0][0][5][32].item<int64_t>(), 2);
  EXPECT_EQ(b.labels[0][0][5][25].item<int64_t>(), 5);
  EXPECT_EQ(b.instances[0][0][5][32].item<float>(), 2000.0f);
  EXPECT_EQ(b.instances[0][0][5][52].item<float>(), 7000.0f);
  EXPECT_EQ(b.instances[0][0][5][10].item<float>(), 5.0f);
  // Poses: alpha from the JSON, binned as the ground truth; an object without an entry keeps bin 0.
  EXPECT_EQ(b.pose[0][0][5][32].item<int64_t>(), models::textural::pose_bin(2.0));
  EXPECT_NE(models::textural::pose_bin(2.0), 0);
  EXPECT_EQ(b.pose[0][0][5][52].item<int64_t>(), 0);
  EXPECT_EQ(b.pose[0][0][5][10].item<int64_t>(), 0);
  // Normals: the PNG's bytes v decoded as (v / 255 - 0.5) / 0.5 + 1 / 255.
  auto dec = [](int v) { return (v / 255.0 - 0.5) / 0.5 + 1 / 255.0; };
  EXPECT_NEAR(b.normals[0][0][5][32].item<float>(), dec(32), 1e-6);
  EXPECT_NEAR(b.normals[0][1][5][32].item<float>(), dec(5), 1e-6);
  EXPECT_NEAR(b.normals[0][2][5][32].item<float>(), dec(200), 1e-6);
  EXPECT_NEAR(b.normals[0][0][5][10].item<float>(), dec(127), 1e-6);
  // A missing file is one clear error naming it.
  std::filesystem::remove(d.geometric + "/w/v/00003-normal.png");
  try {
    st.planes(frame(), &info, nullptr);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(d.geometric + "/w/v/00003-normal.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tiny("0", "80", "24", {"--textural.geometric_dir", d.geometric}), UsageError);  // groundtruth
}

namespace {

// A 200x100 frame (f = 100, principal point (100, 50)) with one Car (track 0, 4 x 1.5 x 1.8 m, bottom 0.75 m below
// the camera) at (x3d, z3d) with yaw ry; its instance mask is the projection of its 3D box.
data::Sample posed_car(float x3d, float z3d, float ry) {
  data::Sample s;
  s.width = 200, s.height = 100;
  s.K.fx = s.K.fy = 100, s.K.cx = 100, s.K.cy = 50;
  data::ObjectGT car;
  car.class_id = 2;
  car.length3d = 4, car.height3d = 1.5f, car.width3d = 1.8f;
  car.x3d = x3d, car.y3d = 0.75f, car.z3d = z3d, car.rotation_y = ry;
  s.objects.push_back(car);
  double u0 = 1e9, u1 = -1e9, v0 = 1e9, v1 = -1e9;
  for (double dx : {-2.0, 2.0})
    for (double dz : {-0.9, 0.9})
      for (double y : {0.75, -0.75}) {
        const double X = x3d + std::cos(ry) * dx + std::sin(ry) * dz, Z = z3d - std::sin(ry) * dx + std::cos(ry) * dz;
        u0 = std::min(u0, 100 * X / Z + 100), u1 = std::max(u1, 100 * X / Z + 100);
        v0 = std::min(v0, 100 * y / Z + 50), v1 = std::max(v1, 100 * y / Z + 50);
      }
  s.instance.assign(200 * 100, 0);
  for (int y = std::max(0, int(v0)); y <= std::min(99, int(v1)); ++y)
    for (int x = std::max(0, int(u0)); x <= std::min(199, int(u1)); ++x) s.instance[size_t(y) * 200 + x] = 1;
  return s;
}

// Mean of channel c over the pixels the object was painted on (any channel off 127), and their count.
double painted_mean(const std::vector<std::uint8_t>& n, int c, int& count) {
  double sum = 0;
  count = 0;
  for (size_t p = 0; p < n.size() / 3; ++p)
    if (n[p * 3] != 127 || n[p * 3 + 1] != 127 || n[p * 3 + 2] != 127) sum += n[p * 3 + c], ++count;
  return count ? sum / count : 0;
}

}  // namespace

// textural.inputs = groundtruth: the generated sedan at the motgt pose, rendered as the derenderer predict's
// normal map: facing the camera, on the object's own instance pixels only, 127 elsewhere.
TEST(TexturalNormals, PosedMeshFacesTheCameraOnItsInstancePixels) {
  GroundTruthNormals gt({});
  // Side-on (ry = 0: the length along x), straight ahead: the centre sees the flank, n ~ (0, 0, 1).
  auto s = posed_car(0, 8, 0);
  const auto n = gt.render(s);
  ASSERT_EQ(n.size(), size_t(200 * 100 * 3));
  const size_t centre = (50 * 200 + 100) * 3;
  EXPECT_GT(n[centre + 2], 230) << "n_z at the centre";
  EXPECT_NEAR(n[centre], 127, 40);
  EXPECT_NEAR(n[centre + 1], 127, 40);
  int painted = 0;
  for (size_t p = 0; p < n.size() / 3; ++p) {
    const bool off = n[p * 3] != 127 || n[p * 3 + 1] != 127 || n[p * 3 + 2] != 127;
    if (!off) continue;
    ++painted;
    EXPECT_EQ(s.instance[p], 1) << "painted outside the instance at pixel " << p;
    EXPECT_GE(n[p * 3 + 2], 127) << "a normal turned away from the camera at pixel " << p;
  }
  EXPECT_GT(painted, 300);  // most of the ~50 x 19 px box
  // Without an instance of the object (another track id), nothing is painted.
  s.objects[0].track_id = 6;
  const auto none = gt.render(s);
  EXPECT_TRUE(std::all_of(none.begin(), none.end(), [](std::uint8_t v) { return v == 127; }));
}

TEST(TexturalNormals, ASideFacingTheCameraTurnsTheNormalsTowardsIt) {
  GroundTruthNormals gt({});
  // Nose-on (ry = pi/2: the length along z), 3 m to the right: its left flank is visible (n_x < 0) and its
  // right one is not; mirrored on the left, the opposite.
  int right_n = 0, left_n = 0;
  const double right = painted_mean(gt.render(posed_car(3, 8, static_cast<float>(M_PI / 2))), 0, right_n);
  const double left = painted_mean(gt.render(posed_car(-3, 8, static_cast<float>(M_PI / 2))), 0, left_n);
  ASSERT_GT(right_n, 200);
  ASSERT_GT(left_n, 200);
  EXPECT_LT(right, 117) << "mean red (n_x) of the object on the right";
  EXPECT_GT(left, 137) << "mean red (n_x) of the object on the left";
}

TEST(TexturalNormals, TheStageFeedsThemInGroundTruthModeUnlessOff) {
  auto s = posed_car(0, 8, 0);
  s.rgb.assign(200 * 100 * 3, 90);
  s.classes.assign(200 * 100, 5);
  for (size_t p = 0; p < s.instance.size(); ++p)
    if (s.instance[p]) s.classes[p] = 2;
  const auto on = tiny("200", "64", "32");
  TexturalStage st(on, {});
  auto p = st.planes(s, nullptr, nullptr);
  ASSERT_EQ(p.normals.size(), size_t(64 * 32 * 3));
  const auto b = st.batch({p});
  EXPECT_GT(b.normals.abs().max().item<float>(), 0.5f);
  auto off_cfg = tiny("200", "64", "32", {"--textural.gt_normals", "false"});
  TexturalStage off(off_cfg, {});
  const auto bo = off.batch({off.planes(s, nullptr, nullptr)});
  EXPECT_EQ(bo.normals.abs().max().item<float>(), 0.0f);
  const auto bad = tiny("200", "64", "32", {"--textural.meshes", "/nonexistent-dir"});
  EXPECT_THROW({ TexturalStage st_bad(bad, {}); }, UsageError);
}

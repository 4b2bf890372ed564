// The derenderer stage without ranks or shards: its [derender] keys and validation, the declared terms per mode,
// the StepLR rates as bulb steps them, and the crops of a loader sample: training draws a function of
// (seed, epoch, item) only, evaluation without jitter, and the losses of both modes backpropagate; the objects
// `sdn predict` derenders from ground truth and from Mask R-CNN detection files.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
#include "data/sample.hpp"
#include "data_read_util.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/derender_objects.hpp"
#include "train/stages/derender_stage.hpp"

using namespace sdn;
using namespace sdn::train;

namespace {

TrainConfig config(std::vector<std::string> extra = {}, const std::string& per_rank_batch = "2") {
  std::vector<std::string> args = {"--stage", "derender", "--run-dir", "r", "--data.shards", "s",
                                   "--derender.crop_size", "32", "--derender.mask_size", "16",
                                   "--derender.render_size", "24", "--derender.mesh_stations", "6",
                                   "--train.global_batch", "2", "--train.per_rank_batch", per_rank_batch, "--train.seed", "5"};
  args.insert(args.end(), extra.begin(), extra.end());
  return parse_train_args(args).config;
}

// A 96 x 64 frame with one 30 x 20 car (track 3, instance 4) and a closer occluder (track 7) overlapping it.
data::Sample sample() {
  data::Sample s;
  s.width = 96, s.height = 64;
  s.rgb.resize(size_t(96) * 64 * 3);
  for (size_t i = 0; i < s.rgb.size(); ++i) s.rgb[i] = static_cast<std::uint8_t>((i * 37) % 251);
  s.instance.assign(size_t(96) * 64, 0);
  for (int y = 20; y < 40; ++y)
    for (int x = 30; x < 60; ++x) s.instance[size_t(y) * 96 + x] = 4;
  for (int y = 30; y < 45; ++y)
    for (int x = 55; x < 70; ++x) s.instance[size_t(y) * 96 + x] = 8;
  data::ObjectGT car;
  car.track_id = 3, car.class_id = 2;
  car.left = 30, car.top = 20, car.right = 59, car.bottom = 39;
  car.width3d = 1.7f, car.height3d = 1.5f, car.length3d = 4.2f;
  car.x3d = -1.0f, car.y3d = 1.6f, car.z3d = 14.0f, car.rotation_y = 0.4f, car.occupancy = 1;
  data::ObjectGT near = car;
  near.track_id = 7, near.z3d = 8.0f;
  s.objects = {car, near};
  s.K = {60.0, 60.0, 47.5, 31.5};
  s.object = 0;
  s.item = 12;
  return s;
}

}  // namespace

TEST(DerenderStage, IsBuiltInWithItsKeysAndChecks) {
  auto help = parse_train_args({"--stage", "derender", "--help"});
  ASSERT_TRUE(help.help);
  for (const char* key : {"derender.mode", "derender.meshes", "derender.pretrained", "derender.ffd_coeff_reg"})
    EXPECT_NE(help.usage.find(key), std::string::npos) << key;
  EXPECT_THROW(config({"--derender.mode", "finetune"}), UsageError);
  EXPECT_THROW(config({"--derender.mask_size", "20", "--derender.render_size", "16"}), UsageError);
  EXPECT_THROW(config({"--derender.pretrained", "x.h5"}), UsageError);  // only the full mode starts from one
  // ResNet-18's last BatchNorm needs two values per channel.
  auto c = config({}, "1");
  EXPECT_FALSE(validate_for_world(c, 2).empty());
  EXPECT_TRUE(validate_for_world(config(), 1).empty());
  // The pretrained path is read at step 0 only: not part of the resume digest; the mode is.
  bool mode = false, pretrained = false;
  for (const auto& e : resume_entries(config({"--derender.mode", "full", "--derender.pretrained", "p.h5"}))) {
    mode |= e.rfind("derender.mode = ", 0) == 0;
    pretrained |= e.rfind("derender.pretrained = ", 0) == 0;
  }
  EXPECT_TRUE(mode);
  EXPECT_FALSE(pretrained);
}

TEST(DerenderStage, TermsPerModeAndTheStepLrOfBulb) {
  DerenderStage pre(config(), {});
  EXPECT_EQ(pre.terms(), (std::vector<std::string>{"loss", "theta_delta_loss", "translation2d_loss", "scale_loss",
                                                   "depth_loss"}));
  DerenderStage full(config({"--derender.mode", "full"}), {});
  EXPECT_EQ(full.terms().size(), 8u);
  EXPECT_EQ(full.terms().back(), "ffd_coeff_reg");
  // 256 epochs of 10 steps, StepLR(16, 0.5) stepped with epoch=e after epoch e: epochs 0..16 at the base rate.
  DerenderStage s(config({"--train.epochs", "256", "--derender.lr", "0.001"}), {});
  const std::int64_t total = 2560;
  EXPECT_DOUBLE_EQ(s.lr(0, 0, total), 1e-3);
  EXPECT_DOUBLE_EQ(s.lr(0, 169, total), 1e-3);   // epoch 16
  EXPECT_DOUBLE_EQ(s.lr(0, 170, total), 5e-4);   // epoch 17
  EXPECT_DOUBLE_EQ(s.lr(0, 329, total), 5e-4);   // epoch 32
  EXPECT_DOUBLE_EQ(s.lr(0, 330, total), 2.5e-4);  // epoch 33
}

TEST(DerenderStage, CropsAreAFunctionOfSeedEpochAndItem) {
  DerenderStage stage(config(), {});
  const auto s = sample();
  const auto a = stage.make_batch({s}, true, 3), b = stage.make_batch({s}, true, 3), c = stage.make_batch({s}, true, 4);
  ASSERT_EQ(a.size(), 1);
  EXPECT_EQ(a.images.sizes(), torch::IntArrayRef({1, 3, 32, 32}));
  EXPECT_EQ(a.masks.sizes(), torch::IntArrayRef({1, 1, 16, 16}));
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.roi_norms, b.roi_norms));
  EXPECT_FALSE(torch::equal(a.images, c.images));  // another epoch: other colour (and usually ROI) jitter
  auto other = s;
  other.item = 13;
  EXPECT_FALSE(torch::equal(a.images, stage.make_batch({other}, true, 3).images));
  // Evaluation: the tight box, no jitter, whatever the epoch; the closer object is ignored where it overlaps.
  const auto e = stage.make_batch({s}, false, 7);
  const double f = 60.0;
  EXPECT_NEAR(e.roi_norms[0][0].item<double>(), (20 - 31.5) / f, 1e-6);
  EXPECT_NEAR(e.roi_norms[0][3].item<double>(), (60 - 47.5) / f, 1e-6);
  EXPECT_GT(e.ignores.sum().item<double>(), 0.0);
  EXPECT_NEAR(e.targets.theta_deltas[0][0].item<double>(), std::cos(-0.4), 1e-6);
  // A sample whose object has no pixels is left out.
  auto empty = s;
  empty.objects[0].track_id = 40;
  EXPECT_EQ(stage.make_batch({empty}, true, 0).size(), 0);
}

TEST(DerenderStage, BothModesBackpropagateIntoEveryHead) {
  for (const char* mode : {"pretrain", "full"}) {
    DerenderStage stage(config({"--derender.mode", mode}), {});
    stage.enter_schedule(0, 10);
    stage.begin_step(0);
    auto s = sample(), t = sample();
    t.item = 5;
    auto l = stage.loss(0, 0, {s, t});
    ASSERT_EQ(l.terms.size(), stage.terms().size()) << mode;
    EXPECT_TRUE(std::isfinite(l.total.item<double>()));
    l.total.backward();
    const auto& fc3 = stage.model()->fc3->weight.grad();
    ASSERT_TRUE(fc3.defined());
    // Output rows 16.. are the FFD coefficients: only the full mode's losses reach them.
    const double ffd = fc3.narrow(0, 16, 1536).abs().sum().item<double>();
    if (std::string(mode) == "full") EXPECT_GT(ffd, 0.0);
    else EXPECT_EQ(ffd, 0.0);
    EXPECT_GT(fc3.narrow(0, 0, 8).abs().sum().item<double>(), 0.0) << mode;
  }
}

TEST(DerenderStage, PredictObjectsFromGroundTruthAndFromDetections) {
  DerenderStage stage(config(), {});
  auto s = sample();
  const auto gt = gt_objects(s);
  ASSERT_EQ(gt.size(), 2u);
  EXPECT_EQ(gt[0].key, 1);
  EXPECT_EQ(gt[0].track_id, 3);
  EXPECT_EQ(gt[0].roi, (data::derender::Roi{20, 30, 40, 60}));
  EXPECT_TRUE(gt[0].interest);   // a car of 600 pixels
  EXPECT_FALSE(gt[1].interest);  // 225 pixels: not more than 16^2
  // The prediction crops of the tight box are the evaluation crops.
  const auto e = stage.make_batch({s}, false, 0);
  const auto c = stage.crop_batch(s, {gt[0].roi});
  ASSERT_EQ(c.size(), 1);
  EXPECT_TRUE(torch::equal(c.images, e.images));
  EXPECT_TRUE(torch::equal(c.roi_norms, e.roi_norms));
  EXPECT_TRUE(torch::equal(c.focals, e.focals));

  // The same car as a Mask R-CNN detection (class 1, id 1) with a looser box, and a van below the threshold.
  data::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/0001/clone";
  fs::ensure_writable_dir(dir);
  const data::img::Palette binary{{0, 0, 0}, {255, 255, 255}};
  data::img::Image8 m1{96, 64, 1, gt[0].mask}, m2{96, 64, 1, gt[1].mask};
  data::img::write_png_palette(dir + "/00007_mask1.png", m1, binary);
  data::img::write_png_palette(dir + "/00007_mask2.png", m2, binary);
  nlohmann::json doc = {{"width", 96}, {"height", 64}, {"detections", nlohmann::json::array()}};
  doc["detections"].push_back({{"id", 1}, {"class_id", 1}, {"score", 0.9}, {"box", {18, 28, 42, 62}}, {"mask", "00007_mask1.png"}});
  doc["detections"].push_back({{"id", 2}, {"class_id", 2}, {"score", 0.4}, {"box", {30, 55, 45, 70}}, {"mask", "00007_mask2.png"}});
  fs::write_atomic(dir + "/00007.json", doc.dump());
  const auto det = detected_objects(tmp.path(), "0001", "clone", 7, 96, 64);
  ASSERT_EQ(det.size(), 2u);
  EXPECT_EQ(det[0].key, 1);
  EXPECT_EQ(det[0].class_id, 2);   // the 3D-SDN id of a car
  EXPECT_EQ(det[1].class_id, 12);  // of a van
  EXPECT_EQ(det[0].roi, (data::derender::Roi{18, 28, 42, 62}));  // the detected box is the ROI
  EXPECT_EQ(det[0].mask, gt[0].mask);
  EXPECT_DOUBLE_EQ(det[0].score, 0.9);
  EXPECT_TRUE(det[0].interest);
  EXPECT_FALSE(det[1].interest);

  // Errors name the file and the option: a missing frame, a frame of another size, a missing mask.
  auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto missing = message([&] { detected_objects(tmp.path(), "0001", "clone", 8, 96, 64); });
  EXPECT_NE(missing.find("derender.detections: no " + dir + "/00008.json"), std::string::npos) << missing;
  auto size = message([&] { detected_objects(tmp.path(), "0001", "clone", 7, 100, 64); });
  EXPECT_NE(size.find("96x64"), std::string::npos) << size;
  std::filesystem::remove(dir + "/00007_mask2.png");
  auto mask = message([&] { detected_objects(tmp.path(), "0001", "clone", 7, 96, 64); });
  EXPECT_NE(mask.find("00007_mask2.png"), std::string::npos) << mask;
  // maskrcnn without a directory is refused at parse time; the source is no part of the resume digest.
  EXPECT_THROW(config({"--derender.predict_boxes", "maskrcnn"}), UsageError);
  for (const auto& e : resume_entries(config({"--derender.predict_boxes", "maskrcnn", "--derender.detections", "d"})))
    EXPECT_EQ(e.find("derender.predict_boxes"), std::string::npos) << e;
}

// `sdn edit`'s parts below the command: the --edit and benchmark-JSON parsers, the edit arithmetic on a
// derendered object (positions, distance, angles, matching by pixel or visibility, bad object ids), the scene file
// round trip, the instance feature table that carries a moved object's code, and the textural stage's edit path
// (an unedited frame is its reconstruction).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "models/textural/instance_encoder.hpp"
#include "train/scene_edit.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/textural_stage.hpp"

namespace sdn::train {
namespace {

data::Intrinsics K() {
  data::Intrinsics k;
  k.fx = k.fy = 100, k.cx = 80, k.cy = 24;
  return k;
}

EditFrame plain() {
  EditFrame f;
  f.K = K();
  return f;
}

// An object 10 m in front, a little right and below the centre, as decode_pose would place it.
Scene one_object() {
  SceneObject o;
  o.id = 3;
  o.class_id = 2;
  o.translation = {1.0, -0.5, -10.0};
  o.theta = 0.4;
  o.ffd_coeffs.assign(192, 0.01);
  update_derived(o, K());
  Scene s;
  s.objects[3] = o;
  return s;
}

double dist(const std::array<double, 3>& t) { return std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]); }

TEST(EditParse, CommandLineOperations) {
  const auto e = parse_edit_text("3:move=1,0,-2:rotate=90deg ; 5:delete;4:scale=1.5:mesh=2:to=10,20:zoom=2:shift=1,2");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].object, 3);
  ASSERT_TRUE(e[0].move);
  EXPECT_EQ((*e[0].move)[2], -2);
  EXPECT_NEAR(e[0].rotate, M_PI / 2, 1e-12);
  EXPECT_TRUE(e[1].remove);
  EXPECT_EQ(e[2].scale[1], 1.5);
  EXPECT_EQ(*e[2].mesh, 2);
  EXPECT_EQ(e[2].zoom, 2);
  EXPECT_EQ((*e[2].to)[1], 20);
  EXPECT_EQ((*e[2].shift)[0], 1);
}

TEST(EditParse, CommandLineErrorsNameThePart) {
  for (const char* bad : {"move=1,0,0", "x:move=1,0,0", "3:move=1,0", "3:spin=2", "3:zoom=0", "3:mesh=1.5",
                          "3:scale=1,2", "3:move", ""}) {
    try {
      parse_edit_text(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--edit"), std::string::npos) << e.what();
    }
  }
}

TEST(EditParse, BenchmarkFormat) {
  const std::string text = R"([
    {"world": "0006", "topic": "fog", "source": "00055", "target": "00050",
     "operations": [
       {"type": "modify", "from": {"u": "750.9", "v": "213.9"},
        "to": {"u": "804.4", "v": "227.1", "roi": [194, 756, 269, 865]}, "zoom": "1.338", "ry": "0.007"},
       {"type": "delete", "from": {"u": "1328.5", "v": "271.3"}, "to": null, "zoom": null, "ry": null},
       {"type": "modify", "from": {"u": "552", "v": "251"}, "to": {}, "zoom": "1.0", "ry": "0.837758"},
       {"type": "modify", "object": 4, "move": [1, 0, 0], "mesh": 3, "scale": 1.1}]},
    {"world": "0006", "topic": "fog", "source": "00055", "target": "00055", "operations": []}])";
  const auto entries = parse_edit_json(text, "b.json");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].source, 55);
  EXPECT_EQ(entries[0].target, 50);
  const auto& ops = entries[0].edits;
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_NEAR((*ops[0].from)[0], 750.9, 1e-9);
  EXPECT_NEAR((*ops[0].to)[1], 227.1, 1e-9);
  EXPECT_NEAR(ops[0].zoom, 1.338, 1e-12);
  EXPECT_NEAR(ops[0].rotate, 0.007, 1e-12);
  EXPECT_TRUE(ops[1].remove);
  EXPECT_FALSE(ops[2].to);  // "to": {} keeps the centre
  EXPECT_EQ(ops[3].object, 4);
  EXPECT_EQ(*ops[3].mesh, 3);
  EXPECT_NEAR(ops[3].scale[2], 1.1, 1e-12);
  EXPECT_TRUE(entries[1].edits.empty());
  EXPECT_THROW(parse_edit_json(R"([{"world": "0006", "topic": "fog", "source": "x", "operations": []}])", "b.json"),
               UsageError);
  EXPECT_THROW(parse_edit_json(R"({"world": "0006"})", "b.json"), UsageError);
}

TEST(EditApply, MoveIsInTheVkittiCameraFrame) {
  auto s = one_object();
  const auto before = s.objects[3];
  ObjectEdit e;
  e.object = 3;
  e.move = std::array<double, 3>{2.0, 0.0, 5.0};  // 2 m right, 5 m further away
  apply_edits(s, {e}, plain());
  const auto& o = s.objects[3];
  EXPECT_TRUE(o.edited);
  EXPECT_NEAR(o.translation[0], before.translation[0] + 2, 1e-12);
  EXPECT_NEAR(o.translation[2], before.translation[2] - 5, 1e-12);
  EXPECT_GT(o.center2d[1], before.center2d[1]);  // u grows: it moved right in the image
  EXPECT_NEAR(o.depth, dist(o.translation), 1e-12);
  // The projected centre follows the pinhole model.
  EXPECT_NEAR(o.center2d[1], 100 * o.translation[0] / -o.translation[2] + 80, 1e-9);
  EXPECT_NEAR(o.center2d[0], 100 * o.translation[1] / o.translation[2] + 24, 1e-9);
}

TEST(EditApply, ToKeepsTheDistanceZoomDividesItRotateTurnsTheta) {
  auto s = one_object();
  const auto before = s.objects[3];
  ObjectEdit e;
  e.object = 3;
  e.to = std::array<double, 2>{120.0, 30.0};
  e.zoom = 2;
  e.rotate = 0.25;
  apply_edits(s, {e}, plain());
  const auto& o = s.objects[3];
  EXPECT_NEAR(o.center2d[1], 120, 1e-9);
  EXPECT_NEAR(o.center2d[0], 30, 1e-9);
  EXPECT_NEAR(o.depth, before.depth / 2, 1e-9);
  EXPECT_NEAR(o.theta, before.theta - 0.25, 1e-12);
  EXPECT_NEAR(o.rotation[0], std::cos(o.theta / 2), 1e-12);
  EXPECT_NEAR(o.rotation[2], std::sin(o.theta / 2), 1e-12);
  const double alpha = -(o.theta - std::atan(o.translation[0] / o.translation[2]));
  EXPECT_NEAR(o.alpha, std::remainder(alpha, 2 * M_PI), 1e-12);
}

TEST(EditApply, MeshChangeResetsTheLatticeAndDeleteDrops) {
  auto s = one_object();
  ObjectEdit m;
  m.object = 3;
  m.mesh = 5;
  apply_edits(s, {m}, plain());
  EXPECT_EQ(s.objects[3].mesh, 5);
  for (double c : s.objects[3].ffd_coeffs) EXPECT_EQ(c, 0);
  ObjectEdit d;
  d.object = 3;
  d.remove = true;
  apply_edits(s, {d}, plain());
  EXPECT_TRUE(s.objects[3].deleted);
  EXPECT_EQ(scene_to_json(s), "{}\n");
}

TEST(EditApply, UnknownObjectNamesItAndTheObjectsThere) {
  auto s = one_object();
  ObjectEdit e;
  e.object = 99;
  e.text = "99:move=1,0,0";
  try {
    apply_edits(s, {e}, plain());
    FAIL();
  } catch (const UsageError& err) {
    const std::string m = err.what();
    EXPECT_NE(m.find("object 99 is not a derendered object"), std::string::npos) << m;
    EXPECT_NE(m.find("its objects: 3"), std::string::npos) << m;
  }
  ObjectEdit behind;
  behind.object = 3;
  behind.move = std::array<double, 3>{0.0, 0.0, -20.0};
  EXPECT_THROW(apply_edits(s, {behind}, plain()), UsageError);
}

TEST(EditApply, FromPicksTheNearestBoxCentre) {
  auto s = one_object();
  auto second = s.objects[3];
  second.id = 7;
  s.objects[7] = second;
  auto f = plain();
  f.box_centres = {{3, {20.0, 20.0}}, {7, {140.0, 30.0}}};
  ObjectEdit e;
  e.from = std::array<double, 2>{130.0, 28.0};
  e.remove = true;
  apply_edits(s, {e}, f);
  EXPECT_FALSE(s.objects[3].deleted);
  EXPECT_TRUE(s.objects[7].deleted);
}

TEST(EditApply, LargestIsTheMostVisibleObject) {
  auto s = one_object();
  auto second = s.objects[3];
  second.id = 7;
  s.objects[7] = second;
  const auto edits = parse_edit_text("largest:delete");
  auto f = plain();
  f.visible_pixels = {{3, 40}, {7, 90}, {12, 500}};  // 12 is not derendered
  apply_edits(s, edits, f);
  EXPECT_FALSE(s.objects[3].deleted);
  EXPECT_TRUE(s.objects[7].deleted);
  EXPECT_THROW(apply_edits(s, edits, plain()), UsageError);
}

TEST(EditScene, JsonRoundTrip) {
  auto s = one_object();
  s.objects[3].mesh_name = "sedan";
  const auto back = scene_from_json(scene_to_json(s), "x.json");
  ASSERT_EQ(back.objects.size(), 1u);
  const auto& o = back.objects.at(3);
  EXPECT_EQ(o.translation, s.objects[3].translation);
  EXPECT_EQ(o.ffd_coeffs, s.objects[3].ffd_coeffs);
  EXPECT_EQ(o.mesh_name, "sedan");
  EXPECT_THROW(scene_from_json("{\"1\": {\"class_id\": 2}}", "x.json"), UsageError);
}

TEST(EditFeatures, TableMatchesInstancePoolingAndCarriesCodes) {
  torch::manual_seed(0);
  const auto features = torch::randn({1, 3, 4, 5});
  auto inst = torch::zeros({1, 1, 4, 5});
  inst.index_put_({0, 0, torch::indexing::Slice(0, 2), torch::indexing::Slice(0, 2)}, 3000);
  inst.index_put_({0, 0, 3, torch::indexing::Slice()}, 5);
  const auto table = models::textural::instance_feature_table(features, inst);
  std::vector<int64_t> missing;
  const auto same = models::textural::paint_instance_features(table, inst, &missing);
  EXPECT_TRUE(torch::equal(same, models::textural::instance_mean_pool(features, inst)));
  EXPECT_TRUE(missing.empty());
  // Object 3000 moved to the right and an id without a code appears.
  auto moved = torch::zeros({1, 1, 4, 5});
  moved.index_put_({0, 0, torch::indexing::Slice(0, 2), torch::indexing::Slice(3, 5)}, 3000);
  moved.index_put_({0, 0, 3, 0}, 9000);
  const auto painted = models::textural::paint_instance_features(table, moved, &missing);
  using torch::indexing::Slice;
  EXPECT_TRUE(torch::allclose(painted.index({0, Slice(), 0, 3}), same.index({0, Slice(), 0, 0})));
  EXPECT_TRUE(torch::equal(painted.index({0, Slice(), 3, 0}), torch::zeros({3})));
  ASSERT_EQ(missing, std::vector<int64_t>{9000});
}

TEST(EditTextural, AnUneditedFrameIsItsReconstruction) {
  const auto c = parse_train_args({"--stage", "textural", "--run-dir", "r", "--data.shards", "s",
                                   "--textural.vgg_loss", "false", "--textural.ngf", "4",
                                   "--textural.n_downsample_global", "2", "--textural.n_blocks_global", "1",
                                   "--textural.nef", "4", "--textural.n_downsample_E", "2", "--textural.ndf", "4",
                                   "--textural.n_layers_D", "2", "--textural.niter", "1", "--textural.niter_decay", "1",
                                   "--train.epochs", "2", "--textural.load_width", "0", "--textural.crop_width", "32",
                                   "--textural.crop_height", "16"})
                     .config;
  TexturalStage st(c, {});
  data::Sample s;
  s.width = 32, s.height = 16;
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x) {
      s.rgb.insert(s.rgb.end(), {static_cast<std::uint8_t>(7 * x), static_cast<std::uint8_t>(9 * y), 40});
      s.classes.push_back(x >= 8 && x < 16 ? 2 : 5);
      s.instance.push_back(x >= 8 && x < 16 ? 3 : 0);
    }
  data::ObjectGT car;
  car.track_id = 2;
  car.class_id = 2;
  s.objects.push_back(car);
  const auto b = st.batch({st.planes(s, nullptr, nullptr)});
  std::vector<int64_t> missing{1};
  const auto edited = st.generate_edited(b, b, &missing);
  EXPECT_TRUE(missing.empty());
  EXPECT_TRUE(torch::equal(edited, st.reconstruct(b)));
  // The object moved 8 px right keeps its code; a new id has none.
  auto moved = b;
  moved.instances = torch::roll(b.instances, {8}, {3});
  moved.instances[0][0][0][0] = 77000;
  st.generate_edited(b, moved, &missing);
  EXPECT_EQ(missing, std::vector<int64_t>{77000});
}

}  // namespace
}  // namespace sdn::train

// The synthetic generator on its own: determinism, agreement of class / instance / depth / boxes / 3D poses
// within a frame, motion of persistent tracks, variations that change the look or the camera but not the
// world, the stereo baseline, and validation of its options.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "data/synth.hpp"
#include "data/synth_scene.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
namespace dt = sdn::data::testing;

namespace {

constexpr double kPi = 3.14159265358979323846;

SynthOptions options(Layout layout = Layout::kVkitti1, int width = 320, int height = 96) {
  SynthOptions o;
  o.layout = layout;
  o.width = width;
  o.height = height;
  o.seed = 11;
  return o;
}

}  // namespace

TEST(DataSynth, SameSeedSameFrameOtherSeedOtherScene) {
  const SynthOptions o = options();
  const Frame a = synth_frame(o, "0001", "clone", 5, 0), b = synth_frame(o, "0001", "clone", 5, 0);
  EXPECT_TRUE(a.rgb == b.rgb && a.classes == b.classes && a.depth == b.depth && a.instance == b.instance);
  ASSERT_EQ(a.objects.size(), b.objects.size());
  for (size_t k = 0; k < a.objects.size(); ++k)
    EXPECT_TRUE(a.objects[k].left == b.objects[k].left && a.objects[k].bottom == b.objects[k].bottom &&
                a.objects[k].occupancy == b.objects[k].occupancy);
  SynthOptions other = o;
  other.seed = 12;
  const Frame c = synth_frame(other, "0001", "clone", 5, 0);
  EXPECT_FALSE(a.classes == c.classes);
  EXPECT_FALSE(a.rgb == c.rgb);
}

TEST(DataSynth, LabelsDepthAndInstancesAgree) {
  const SynthOptions o = options();
  std::map<int, int> seen_classes;
  for (int index : {0, 40, 200}) {
    const Frame f = synth_frame(o, "0020", "clone", index, 0);
    for (size_t i = 0; i < f.classes.size(); ++i) {
      ++seen_classes[f.classes[i]];
      EXPECT_EQ(f.classes[i] == kSky, f.depth[i] == kDepthSky) << "pixel " << i;
      EXPECT_EQ(f.classes[i] == kCar || f.classes[i] == kVan, f.instance[i] > 0) << "pixel " << i;
    }
  }
  for (int c : {kRoad, kSky, kBuilding, kCar, kTerrain}) EXPECT_GT(seen_classes[c], 0) << "class " << c;
}

TEST(DataSynth, BoxesArePixelTightAndPosesProjectIntoThem) {
  const SynthOptions o = options(Layout::kVkitti1, 621, 188);
  int checked_projection = 0, objects = 0;
  for (int index = 0; index < 30; index += 3) {
    const Frame f = synth_frame(o, "0018", "clone", index, 0);
    std::map<int, std::array<int, 5>> tight;  // instance -> l t r b count
    for (int v = 0; v < f.height; ++v)
      for (int u = 0; u < f.width; ++u) {
        const int id = f.instance[v * f.width + u];
        if (!id) continue;
        auto [it, fresh] = tight.emplace(id, std::array<int, 5>{u, v, u, v, 0});
        auto& b = it->second;
        b = {std::min(b[0], u), std::min(b[1], v), std::max(b[2], u), std::max(b[3], v), b[4] + 1};
      }
    ASSERT_EQ(tight.size(), f.objects.size()) << "every visible instance has exactly one object row";
    for (const ObjectGT& g : f.objects) {
      ++objects;
      const auto& b = tight.at(g.track_id + 1);
      EXPECT_EQ(g.left, b[0]);
      EXPECT_EQ(g.top, b[1]);
      EXPECT_EQ(g.right, b[2]);
      EXPECT_EQ(g.bottom, b[3]);
      EXPECT_GT(g.occupancy, 0.f);
      EXPECT_LE(g.occupancy, 1.f);
      EXPECT_NEAR(g.alpha, std::remainder(g.rotation_y - std::atan2(g.x3d, g.z3d), 2 * kPi), 1e-5);
      // Depth of the object's pixels lies within its 3D extent around the bottom-face centre.
      const double reach = std::hypot(g.length3d, g.width3d) / 2 + 0.01;
      for (size_t i = 0; i < f.instance.size(); ++i)
        if (f.instance[i] == g.track_id + 1) {
          EXPECT_GE(f.depth[i] / 100.0, g.z3d - reach);
          EXPECT_LE(f.depth[i] / 100.0, g.z3d + reach);
        }
      if (g.truncation == 0 && g.occupancy == 1) {  // the projected 3D centre falls inside the 2D box
        const double cy = g.y3d - g.height3d / 2;
        const double u = f.K.fx * g.x3d / g.z3d + f.K.cx, v = f.K.fy * cy / g.z3d + f.K.cy;
        EXPECT_GE(u, g.left - 1);
        EXPECT_LE(u, g.right + 1);
        EXPECT_GE(v, g.top - 1);
        EXPECT_LE(v, g.bottom + 1);
        ++checked_projection;
      }
    }
  }
  EXPECT_GT(objects, 20);
  EXPECT_GT(checked_projection, 3);
}

TEST(DataSynth, TracksPersistAndMoveBetweenFrames) {
  const SynthOptions o = options();
  int moved = 0, persisted = 0;
  for (int index = 10; index < 20; ++index) {
    const Frame a = synth_frame(o, "0001", "clone", index, 0), b = synth_frame(o, "0001", "clone", index + 1, 0);
    for (const ObjectGT& x : a.objects)
      for (const ObjectGT& y : b.objects)
        if (x.track_id == y.track_id) {
          ++persisted;
          EXPECT_EQ(x.class_id, y.class_id);
          EXPECT_EQ(x.length3d, y.length3d);
          if (x.moving && (x.z3d != y.z3d || x.x3d != y.x3d)) ++moved;
        }
  }
  EXPECT_GT(persisted, 10);
  EXPECT_GT(moved, 5);
}

TEST(DataSynth, TrackIdsFitTheEightBitInstanceImageOverTheLongestWorld) {
  synth::SceneModel scene(3, "0020");
  const auto tracks = scene.tracks(0, world_frame_count("0020") - 1);
  ASSERT_FALSE(tracks.empty());
  EXPECT_LT(tracks.back().track_id, 255);
  for (int f = 0; f < 837; f += 50)
    for (const auto& v : scene.vehicles(f)) EXPECT_LT(v.track_id, 255);
}

TEST(DataSynth, TrafficOptionsScaleAndFillTheSlotsAndChangeNothingElse) {
  synth::SceneModel standard(3, "0001"), dense(3, "0001", synth::Traffic{2.0, 1.0});
  size_t n_standard = 0, n_dense = 0;
  for (int f = 0; f < 40; f += 4) {
    const auto a = standard.vehicles(f), b = dense.vehicles(f);
    n_standard += a.size();
    n_dense += b.size();
    EXPECT_EQ(b.size(), 12u) << "frame " << f;  // presence 1: every slot holds a vehicle
    // A vehicle of the standard scene is in the dense one at the same place, twice the size, same look.
    for (const auto& v : a) {
      auto it = std::find_if(b.begin(), b.end(), [&](const synth::Vehicle& w) { return w.track_id == v.track_id; });
      ASSERT_NE(it, b.end()) << "track " << v.track_id;
      EXPECT_EQ(it->class_id, v.class_id);
      EXPECT_EQ(it->box.bottom.z, v.box.bottom.z);
      EXPECT_EQ(it->box.ry, v.box.ry);
      EXPECT_EQ(std::string(it->color_name), v.color_name);
      EXPECT_NEAR(it->box.width, 2 * v.box.width, 2e-3);
      EXPECT_NEAR(it->box.length, 2 * v.box.length, 2e-3);
    }
  }
  EXPECT_GT(n_dense, n_standard);
  // The default Traffic is the standard scene.
  synth::SceneModel again(3, "0001", synth::Traffic{});
  for (int f = 0; f < 40; f += 8) {
    const auto a = standard.vehicles(f), b = again.vehicles(f);
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].box.width, b[k].box.width);
  }
}

TEST(DataSynth, WeatherChangesPixelsNotTheWorldAndRotationsMoveTheCamera) {
  const SynthOptions o = options();
  const Frame clone = synth_frame(o, "0006", "clone", 100, 0);
  for (const char* v : {"fog", "sunset", "rain", "morning", "overcast"}) {
    const Frame w = synth_frame(o, "0006", v, 100, 0);
    EXPECT_TRUE(w.classes == clone.classes) << v;
    EXPECT_TRUE(w.instance == clone.instance) << v;
    EXPECT_TRUE(w.depth == clone.depth) << v;
    EXPECT_EQ(w.objects.size(), clone.objects.size()) << v;
    EXPECT_FALSE(w.rgb == clone.rgb) << v;
  }
  const Frame right = synth_frame(o, "0006", "30-deg-right", 100, 0);
  EXPECT_FALSE(right.classes == clone.classes);
}

TEST(DataSynth, RightCameraSeesTheSameObjectsShiftedByTheBaseline) {
  const SynthOptions o = options(Layout::kVkitti2);
  int matched = 0;
  for (int index = 0; index < 10; ++index) {
    const Frame l = synth_frame(o, "0001", "clone", index, 0), r = synth_frame(o, "0001", "clone", index, 1);
    EXPECT_EQ(l.K.fx, vkitti2_intrinsics(320, 96).fx);
    for (const auto& a : l.objects)
      for (const auto& b : r.objects)
        if (a.track_id == b.track_id) {
          EXPECT_NEAR(a.x3d - b.x3d, kStereoBaseline, 2e-4);
          EXPECT_NEAR(a.z3d, b.z3d, 2e-4);
          ++matched;
        }
  }
  EXPECT_GT(matched, 10);
  EXPECT_THROW(synth_frame(options(Layout::kVkitti1), "0001", "clone", 0, 1), sdn::UsageError);
}

TEST(DataSynth, ValidateReportsEveryProblem) {
  SynthOptions o = options();
  o.out = "x";
  EXPECT_TRUE(validate(o).empty());
  o.worlds = {"0001", "0003"};
  o.variations = {"clone", "snow"};
  o.width = 8;
  o.first_frame = 230;
  o.frames = 10;
  o.threads = 0;
  const auto problems = validate(o);
  const std::string all = [&] {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
  }();
  EXPECT_NE(all.find("worlds: unknown name '0003' (accepted: 0001,0002,0006,0018,0020)"), std::string::npos) << all;
  EXPECT_NE(all.find("variations: unknown name 'snow'"), std::string::npos) << all;
  EXPECT_NE(all.find("width x height = 8x96"), std::string::npos) << all;
  EXPECT_NE(all.find("threads = 0"), std::string::npos) << all;
  o.worlds = {"0002"};
  const auto range = validate(o);
  ASSERT_FALSE(range.empty());
  EXPECT_NE(range.back().find("frames 230..239 exceed world 0002 (frames 0..232)"), std::string::npos) << range.back();
}

TEST(DataSynth, UnwritableOutputIsOneClearError) {
  dt::TempDir dir;
  const std::string file = dir.path() + "/a-file";
  dt::write_text(file, "x");
  SynthOptions o = options();
  o.out = file + "/tree";
  o.frames = 1;
  const std::string err = dt::error_of([&] { write_synthetic(o); });
  EXPECT_NE(err.find(file + "/tree"), std::string::npos) << err;
  o.out = dir.path() + "/ok";
  o.worlds = {"9999"};
  EXPECT_THROW(write_synthetic(o), sdn::UsageError);
}

TEST(DataSynth, SmallFramesAreFast) {
  dt::TempDir dir;
  SynthOptions o = dt::tiny_options(Layout::kVkitti1, dir.path());
  o.variations = {"clone", "fog", "rain", "sunset"};
  o.frames = 75;  // 300 frames
  const auto start = std::chrono::steady_clock::now();
  write_synthetic(o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(s, 10.0) << "300 frames of 160x48 took " << s << " s";
}

// Readers of both layouts on `sdn synth` output: every modality a reader returns equals what the generator
// placed (labels, instances, depth, objects, intrinsics bit for bit; RGB exactly from PNG, within JPEG error
// from JPEG), layout detection, frame listing, and concurrent first loads of a sequence.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "data/reader.hpp"
#include "data/synth.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
namespace dt = sdn::data::testing;
using dt::TempDir;
using dt::tiny_options;

namespace {

void expect_same_objects(const std::vector<ObjectGT>& got, const std::vector<ObjectGT>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const ObjectGT &g = got[i], &w = want[i];
    SCOPED_TRACE(what + " track " + std::to_string(w.track_id));
    EXPECT_EQ(g.track_id, w.track_id);
    EXPECT_EQ(g.class_id, w.class_id);
    EXPECT_EQ(g.left, w.left);
    EXPECT_EQ(g.top, w.top);
    EXPECT_EQ(g.right, w.right);
    EXPECT_EQ(g.bottom, w.bottom);
    EXPECT_EQ(g.width3d, w.width3d);
    EXPECT_EQ(g.height3d, w.height3d);
    EXPECT_EQ(g.length3d, w.length3d);
    EXPECT_EQ(g.x3d, w.x3d);
    EXPECT_EQ(g.y3d, w.y3d);
    EXPECT_EQ(g.z3d, w.z3d);
    EXPECT_EQ(g.rotation_y, w.rotation_y);
    EXPECT_EQ(g.alpha, w.alpha);
    EXPECT_EQ(g.truncation, w.truncation);
    EXPECT_EQ(g.occupancy, w.occupancy);
    EXPECT_EQ(g.moving, w.moving);
  }
}

// Compares a loaded frame with synth_frame(); `max_mean_rgb_error` 0 demands identical RGB.
void expect_matches_ground_truth(const Frame& got, const Frame& want, double max_mean_rgb_error) {
  const std::string what = got.world + "/" + got.variation + "/" + std::to_string(got.index) + " camera " +
                           std::to_string(got.camera);
  EXPECT_EQ(got.world, want.world);
  EXPECT_EQ(got.variation, want.variation);
  EXPECT_EQ(got.index, want.index);
  EXPECT_EQ(got.camera, want.camera);
  ASSERT_EQ(got.width, want.width) << what;
  ASSERT_EQ(got.height, want.height) << what;
  EXPECT_TRUE(got.classes == want.classes) << what;
  EXPECT_TRUE(got.instance == want.instance) << what;
  EXPECT_TRUE(got.depth == want.depth) << what;
  ASSERT_EQ(got.rgb.size(), want.rgb.size());
  if (max_mean_rgb_error == 0) {
    EXPECT_TRUE(got.rgb == want.rgb) << what;
  } else {
    double sum = 0;
    for (size_t i = 0; i < got.rgb.size(); ++i) sum += std::abs(int(got.rgb[i]) - int(want.rgb[i]));
    EXPECT_LT(sum / got.rgb.size(), max_mean_rgb_error) << what;
  }
  EXPECT_EQ(got.K.fx, want.K.fx);
  EXPECT_EQ(got.K.fy, want.K.fy);
  EXPECT_EQ(got.K.cx, want.K.cx);
  EXPECT_EQ(got.K.cy, want.K.cy);
  expect_same_objects(got.objects, want.objects, what);
}

}  // namespace

TEST(DataRead, Vkitti1ReaderReturnsWhatSynthPlaced) {
  TempDir dir;
  SynthOptions o = tiny_options(Layout::kVkitti1, dir.path());
  o.worlds = {"0001", "0006"};
  o.variations = {"clone", "fog", "30-deg-left"};
  o.first_frame = 68;  // 0006 switches from test to train at frame 69
  write_synthetic(o);
  auto reader = open_dataset(dir.path());
  EXPECT_EQ(reader->layout(), Layout::kVkitti1);
  const auto frames = reader->list_frames(0);
  ASSERT_EQ(frames.size(), 2u * 3u * 3u);
  EXPECT_EQ(frames.front().world, "0001");
  EXPECT_EQ(frames.front().variation, "30-deg-left");  // sorted by name
  EXPECT_EQ(frames.front().index, 68);
  size_t objects = 0, car_pixels = 0;
  for (const auto& ref : frames) {
    const Frame f = reader->load(ref);
    expect_matches_ground_truth(f, synth_frame(o, ref.world, ref.variation, ref.index, 0), 0);
    objects += f.objects.size();
    for (auto c : f.classes) car_pixels += c == kCar || c == kVan;
  }
  EXPECT_GT(objects, frames.size());  // the comparison above is not vacuous
  EXPECT_GT(car_pixels, 0u);
}

TEST(DataRead, Vkitti2ReaderReturnsWhatSynthPlacedForBothCameras) {
  TempDir dir;
  SynthOptions o = tiny_options(Layout::kVkitti2, dir.path());
  o.worlds = {"0002"};
  o.variations = {"clone", "sunset"};
  write_synthetic(o);
  auto reader = open_dataset(dir.path());
  EXPECT_EQ(reader->layout(), Layout::kVkitti2);
  size_t objects = 0;
  for (int camera = 0; camera < 2; ++camera) {
    const auto frames = reader->list_frames(camera);
    ASSERT_EQ(frames.size(), 2u * 3u);
    EXPECT_EQ(frames.front().world, "0002");  // Scene02 normalised
    for (const auto& ref : frames) {
      EXPECT_EQ(ref.camera, camera);
      const Frame f = reader->load(ref);
      // JPEG q95 with 4:2:0 chroma: a few grey levels on average; another frame or camera would be off by tens.
      expect_matches_ground_truth(f, synth_frame(o, ref.world, ref.variation, ref.index, camera), 6.0);
      objects += f.objects.size();
      EXPECT_EQ(f.K.fx, vkitti2_intrinsics(160, 48).fx);
    }
  }
  EXPECT_GT(objects, 12u);
}

TEST(DataRead, ConcurrentFirstLoadsAgree) {
  TempDir dir;
  SynthOptions o = tiny_options(Layout::kVkitti2, dir.path());
  o.variations = {"clone", "rain"};
  write_synthetic(o);
  auto reader = open_dataset(dir.path());
  const auto frames = reader->list_frames(0);
  std::vector<Frame> loaded(frames.size() * 4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < frames.size(); ++i) loaded[t * frames.size() + i] = reader->load(frames[i]);
    });
  for (auto& t : threads) t.join();
  for (int t = 1; t < 4; ++t)
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_TRUE(loaded[t * frames.size() + i].rgb == loaded[i].rgb);
      EXPECT_EQ(loaded[t * frames.size() + i].objects.size(), loaded[i].objects.size());
    }
}

TEST(DataRead, SynthOutputDoesNotDependOnThreadCount) {
  TempDir a, b;
  SynthOptions o = tiny_options(Layout::kVkitti1, a.path());
  o.variations = {"clone", "overcast"};
  o.frames = 5;
  write_synthetic(o);
  o.out = b.path();
  o.threads = 3;
  write_synthetic(o);
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(a.path())) {
    if (!e.is_regular_file()) continue;
    const auto rel = std::filesystem::relative(e.path(), a.path());
    EXPECT_EQ(dt::read_text(e.path().string()), dt::read_text((std::filesystem::path(b.path()) / rel).string()))
        << rel;
    ++files;
  }
  // rgb, scenegt, depth per frame; encoding, motgt, extrinsics per sequence; the mesh table per tree
  EXPECT_EQ(files, 2u * (5u * 3u + 3u) + 1u);
}

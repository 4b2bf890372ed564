// Augmentation: the original's size rule (truncate, pad later), PIL's bilinear resize and colour jitter on
// hand-computed pixels, the jitter -> flip -> resize order, and objects/intrinsics that stay consistent with the
// image and the instance mask under every augmentation (synthetic frames, several seeds, scales, flips, padding).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include "data/augment.hpp"
#include "data/synth.hpp"

using namespace sdn;
using namespace sdn::data;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<std::uint8_t> grey_row(std::initializer_list<int> values) {
  std::vector<std::uint8_t> out;
  for (int v : values) out.insert(out.end(), 3, static_cast<std::uint8_t>(v));
  return out;
}

Sample sample_of(const Frame& f) {
  Sample s;
  s.width = f.width, s.height = f.height;
  s.rgb = f.rgb, s.classes = f.classes, s.instance = f.instance, s.depth = f.depth;
  s.objects = f.objects, s.K = f.K;
  return s;
}

// Inclusive extent {l, t, r, b} of the pixels whose instance id is `id`; l > r when there are none.
std::array<int, 4> extent(const Sample& s, int id) {
  std::array<int, 4> e{s.width, s.height, -1, -1};
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x)
      if (s.instance[static_cast<size_t>(y) * s.width + x] == id)
        e = {std::min(e[0], x), std::min(e[1], y), std::max(e[2], x), std::max(e[3], y)};
  return e;
}

// The 8 corners of an object's 3D box (bottom-face centre x3d, y3d, z3d; y down) projected with K; the first four
// are the front face (+length/2 along the heading).
std::array<std::array<double, 2>, 8> project_corners(const ObjectGT& o, const Intrinsics& K) {
  std::array<std::array<double, 2>, 8> uv{};
  const double c = std::cos(o.rotation_y), s = std::sin(o.rotation_y);
  int k = 0;
  for (double a : {0.5, -0.5})
    for (double b : {0.5, -0.5})
      for (double up : {0.0, 1.0}) {
        const double lx = a * o.length3d, lz = b * o.width3d;
        // R_y(ry) applied to (lx, 0, lz): ry = 0 points the length along +x, as motgt defines it.
        const double x = o.x3d + c * lx + s * lz, y = o.y3d - up * o.height3d, z = o.z3d - s * lx + c * lz;
        uv[static_cast<size_t>(k++)] = {K.fx * x / z + K.cx, K.fy * y / z + K.cy};
      }
  return uv;
}

}  // namespace

TEST(Augment, ScaleRuleTruncatesAsTheOriginal) {
  int w = 0, h = 0;
  scaled_size(1242, 375, 150, 1274, 1, w, h);  // 1242 * 0.4 = 496.8 -> int() = 496 (round() would give 497)
  EXPECT_EQ(w, 496);
  EXPECT_EQ(h, 150);
  scaled_size(1242, 375, 150, 1274, 8, w, h);  // eval/predict: 496 x 152 (was 504 x 152 with rounding)
  EXPECT_EQ(w, 496);
  EXPECT_EQ(h, 152);
  scaled_size(1242, 375, 300, 1274, 1, w, h);  // 993.6 -> 993; the batch pads it to 1000
  EXPECT_EQ(w, 993);
  EXPECT_EQ(h, 300);
  scaled_size(1242, 375, 375, 1274, 8, w, h);
  EXPECT_EQ(w, 1248);
  EXPECT_EQ(h, 376);
  scaled_size(1242, 375, 100, 1274, 8, w, h);  // 331.2 -> 331 -> 336
  EXPECT_EQ(w, 336);
  EXPECT_EQ(h, 104);
  scaled_size(2000, 1000, 1000, 1274, 1, w, h);  // capped by the long side
  EXPECT_EQ(w, 1274);
  EXPECT_EQ(h, 637);
}

TEST(Augment, TrainingResizesToTheTruncatedSizeAndLeavesPaddingToTheBatch) {
  Sample s;
  s.width = 1242, s.height = 375;
  s.rgb.assign(1242u * 375 * 3, 90);
  s.classes.assign(1242u * 375, 5);
  AugmentOptions o;
  o.short_sides = {150};
  o.brightness = o.contrast = o.saturation = o.hue = 0;
  KeyedRng rng(3);
  augment(s, o, rng);
  EXPECT_EQ(s.width, 496);  // not 504 (rounded and stretched) nor 497 (rounded)
  EXPECT_EQ(s.height, 150);  // make_semantic_batch pads it to 152 with ignored labels
  EXPECT_EQ(s.rgb.size(), 496u * 150 * 3);
  EXPECT_EQ(s.classes, std::vector<std::uint8_t>(496u * 150, 5));
  EXPECT_EQ(s.rgb, std::vector<std::uint8_t>(496u * 150 * 3, 90));  // a flat image stays flat (weights sum to 1)
}

// Hand-computed PIL bilinear: 4 -> 2 has scale 2, so the triangle filter's support widens to 2 source pixels.
// Output 0 has centre 1.0 and taps x = 0, 1, 2 at distances 0.5, 0.5, 1.5 (in units of 2): weights 0.75, 0.75,
// 0.25, normalised 3/7, 3/7, 1/7: 0 * 3/7 + 100 * 3/7 + 200 * 1/7 = 71.4 -> 71. Output 1 (centre 3.0, taps 1..3):
// 100/7 + 600/7 + 120/7 = 117.1 -> 117. A two-tap bilinear (cv2, no anti-aliasing) gives 50 and 120.
TEST(Augment, PilBilinearWidensItsKernelWhenDownscaling) {
  EXPECT_EQ(resize_pil_bilinear_rgb(grey_row({0, 100, 200, 40}), 4, 1, 2, 1), grey_row({71, 117}));
  EXPECT_EQ(resize_bilinear_rgb(grey_row({0, 100, 200, 40}), 4, 1, 2, 1), grey_row({50, 120}));
  // Upscaling 2 -> 4 keeps support 1: centres 0.25, 0.75, 1.25, 1.75 -> a, 0.75a + 0.25b, 0.25a + 0.75b, b.
  EXPECT_EQ(resize_pil_bilinear_rgb(grey_row({10, 50}), 2, 1, 4, 1), grey_row({10, 20, 40, 50}));
  // Both passes (horizontal first, rounded to bytes, then vertical): a 5x4 image to 3x2, values from Pillow 9.4.
  const std::vector<std::uint8_t> src = {106, 152, 249, 131, 184, 200, 0,   21,  253, 147, 202, 107, 249, 169, 138,
                                         149, 119, 166, 224, 148, 172, 93,  167, 142, 248, 26,  81,  218, 150, 66,
                                         2,   191, 60,  129, 179, 90,  69,  104, 110, 97,  157, 106, 152, 251, 62,
                                         7,   248, 171, 33,  123, 79,  176, 37,  20,  94,  49,  149, 127, 206, 244};
  EXPECT_EQ(resize_pil_bilinear_rgb(src, 5, 4, 3, 2),
            (std::vector<std::uint8_t>{136, 154, 181, 107, 117, 162, 205, 150, 96, 58, 182, 112, 115, 101, 91, 136,
                                       164, 132}));
  EXPECT_EQ(resize_pil_bilinear_rgb(src, 5, 4, 5, 4), src);
}

// Hand-computed PIL/torchvision jitter on three pixels (10,200,30) (250,0,128) (3,101,213). Their "L" values in
// the original's Pillow 5.0 are (299 R + 587 G + 114 B) / 1000 = 123, 89, 84; Pillow >= 7 rounds: 124, 89, 84.
// The Pillow 7 variants were also checked against Pillow 9.4 (and test_data_pil compares whole images).
TEST(Augment, ColorJitterHasPilArithmetic) {
  const std::vector<std::uint8_t> px = {10, 200, 30, 250, 0, 128, 3, 101, 213};
  const int b_only[4] = {0, 1, 2, 3};
  auto jitter = [&](double b, double c, double s, double h) {
    auto out = px;
    color_jitter(out, b, c, s, h, b_only);
    return out;
  };
  EXPECT_EQ(jitter(1, 1, 1, 0), px);
  // Brightness 1.2: 1.2f * v truncated and clipped: 3 -> 3.6 -> 3 (rounding would give 4), 213 -> 255.6 -> 255.
  EXPECT_EQ(jitter(1.2, 1, 1, 0), (std::vector<std::uint8_t>{12, 240, 36, 255, 0, 153, 3, 121, 255}));
  // Contrast 0.8 around int(297 / 3 + 0.5) = 99: 10 -> 99 + 0.8 (10 - 99) = 27.8 -> 27.
  EXPECT_EQ(jitter(1, 0.8, 1, 0), (std::vector<std::uint8_t>{27, 179, 43, 219, 19, 122, 22, 100, 190}));
  // Saturation 0: each pixel becomes its own L; 1.3 extrapolates and clips: 123 + 1.3 (10 - 123) < 0 -> 0,
  // 123 + 1.3 * 77 = 223.1 -> 223, 123 + 1.3 (30 - 123) = 2.1 -> 2.
  EXPECT_EQ(jitter(1, 1, 0, 0), (std::vector<std::uint8_t>{123, 123, 123, 89, 89, 89, 84, 84, 84}));
  EXPECT_EQ(jitter(1, 1, 1.3, 0), (std::vector<std::uint8_t>{0, 223, 2, 255, 0, 139, 0, 106, 251}));
  auto pillow7 = px;  // the current Pillow's rounded L: 124 + 1.3 * 76 = 222.8 -> 222, 124 - 1.3 * 94 = 1.8 -> 1
  color_jitter(pillow7, 1, 1, 1.3, 0, b_only, PilLuma::kPillow7);
  EXPECT_EQ(pillow7, (std::vector<std::uint8_t>{0, 222, 1, 255, 0, 139, 0, 106, 251}));
  // Hue 0.5: shift uint8(127.5) = 127. (10,200,30) is HSV (89, 242, 200) in PIL's bytes; H 216 lands in sector
  // 5 (floor(216 * 6 / 255) = 5), so RGB = (v, p, q) = (200, round(200 (1 - 242/255)), ...) = (200, 10, 184).
  EXPECT_EQ(jitter(1, 1, 1, 0.5), (std::vector<std::uint8_t>{200, 10, 184, 0, 250, 112, 213, 107, 3}));
  // A negative factor wraps: uint8(-12.75) = 244. A factor whose shift is 0 still round-trips through HSV.
  EXPECT_EQ(jitter(1, 1, 1, -0.05), (std::vector<std::uint8_t>{46, 200, 10, 250, 0, 200, 3, 161, 213}));
  EXPECT_EQ(jitter(1, 1, 1, 0.001), (std::vector<std::uint8_t>{10, 200, 28, 250, 0, 129, 3, 102, 213}));
  // The order matters: contrast before brightness differs from brightness before contrast.
  const int cb[4] = {1, 0, 2, 3};
  auto a = px, b = px;
  color_jitter(a, 1.2, 0.8, 1, 0, b_only);
  color_jitter(b, 1.2, 0.8, 1, 0, cb);
  EXPECT_NE(a, b);
}

TEST(Augment, JitterRunsOnTheFullResolutionImageBeforeTheResize) {
  // An image whose contrast mean differs between full and reduced resolution: the jitter must see all pixels.
  Sample s;
  s.width = 8, s.height = 2;
  for (int i = 0; i < 16; ++i) s.rgb.insert(s.rgb.end(), 3, static_cast<std::uint8_t>(i < 6 ? 250 : 10 * i));
  AugmentOptions o;
  o.short_sides = {1};
  o.flip = false;
  o.brightness = o.saturation = o.hue = 0;
  o.contrast = 0.5;
  int differs = 0;
  for (std::uint64_t key = 0; key < 8; ++key) {
    Sample t = s;
    KeyedRng rng(key);
    augment(t, o, rng);
    // Replay the same draws: short side, flip (off: no draw), b, c, s, h, then the order shuffle.
    KeyedRng replay(key);
    replay.below(1);
    replay.uniform(1, 1);
    const double c = replay.uniform(0.5, 1.5);
    auto expected = s.rgb;
    const int order[4] = {1, 0, 2, 3};
    color_jitter(expected, 1, c, 1, 0, order);
    expected = resize_pil_bilinear_rgb(expected, 8, 2, 4, 1);
    ASSERT_EQ(t.width, 4);
    ASSERT_EQ(t.height, 1);
    EXPECT_EQ(t.rgb, expected) << "key " << key;
    auto late = resize_pil_bilinear_rgb(s.rgb, 8, 2, 4, 1);  // the old order: resize, then jitter
    color_jitter(late, 1, c, 1, 0, order);
    differs += late != expected;
  }
  EXPECT_GT(differs, 0);
}

TEST(Augment, AllPlanesMoveTogether) {
  Sample s;
  s.width = 4, s.height = 2;
  s.rgb = {0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30, 0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30};
  s.classes = {0, 1, 2, 3, 0, 1, 2, 3};
  s.depth = {0, 10, 20, 30, 0, 10, 20, 30};
  AugmentOptions o;
  o.short_sides = {2};
  o.brightness = o.contrast = o.saturation = o.hue = 0;
  for (std::uint64_t key = 0; key < 16; ++key) {
    Sample t = s;
    KeyedRng rng(key);
    augment(t, o, rng);
    ASSERT_EQ(t.width * t.height, static_cast<int>(t.classes.size()));
    for (size_t i = 0; i < t.classes.size(); ++i) {
      EXPECT_EQ(t.depth[i], t.classes[i] * 10);  // label planes resampled and flipped identically
      EXPECT_NEAR(t.rgb[i * 3], t.classes[i] * 10, 10);
    }
  }
}

TEST(Augment, PaddingIsAtTheRightAndBottomAndMovesNothing) {
  std::vector<std::uint8_t> p = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(pad_bottom_right<std::uint8_t>(p, 3, 2, 4, 3, 9), (std::vector<std::uint8_t>{1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9, 9}));
  Sample s;
  s.width = 5, s.height = 3;
  s.rgb.assign(45, 7);
  s.classes.assign(15, 1);
  s.instance.assign(15, 0);
  s.instance[7] = 4;
  ObjectGT g;
  g.left = g.right = 2, g.top = g.bottom = 1;
  s.objects = {g};
  AugmentOptions o;
  o.short_sides.clear();
  o.flip = false;
  o.pad_to = 8;
  KeyedRng rng(1);
  augment(s, o, rng);
  EXPECT_EQ(s.width, 8);
  EXPECT_EQ(s.height, 8);
  EXPECT_EQ(s.classes[7 * 8 + 7], kUnlabelled);
  EXPECT_EQ(extent(s, 4), (std::array<int, 4>{2, 1, 2, 1}));
  EXPECT_EQ(s.objects[0].left, 2);
  EXPECT_EQ(s.objects[0].bottom, 1);
}

TEST(Augment, FlipMirrorsTheThreeDimensionalBoxAndKeepsItsHeading) {
  const Intrinsics K{725, 725, 300.5, 187};  // principal point off-centre on purpose
  const int w = 640;
  ObjectGT o;
  o.x3d = 2.9f, o.y3d = 1.43f, o.z3d = 12.4f;
  o.width3d = 1.85f, o.height3d = 1.5f, o.length3d = 4.9f;
  o.rotation_y = -1.2f;
  o.alpha = static_cast<float>(o.rotation_y - std::atan2(o.x3d, o.z3d));
  std::vector<ObjectGT> objs = {o};
  Intrinsics Kf = K;
  flip_geometry(objs, Kf, w);
  const auto before = project_corners(o, K), after = project_corners(objs[0], Kf);
  for (size_t k = 0; k < 8; ++k) {
    // Corner k keeps its role (front stays front); only the car's left and right sides trade places.
    const size_t mirror = k ^ 2u;
    EXPECT_NEAR(after[mirror][0], (w - 1) - before[k][0], 1e-3) << "corner " << k;
    EXPECT_NEAR(after[mirror][1], before[k][1], 1e-3) << "corner " << k;
  }
  EXPECT_NEAR(objs[0].alpha, std::remainder(objs[0].rotation_y - std::atan2(objs[0].x3d, objs[0].z3d), 2 * kPi), 1e-5);
  flip_geometry(objs, Kf, w);  // twice = identity
  EXPECT_NEAR(objs[0].rotation_y, o.rotation_y, 1e-6);
  EXPECT_NEAR(objs[0].alpha, o.alpha, 1e-6);
  EXPECT_NEAR(Kf.cx, K.cx, 1e-12);
}

// After any augmentation each object's box equals its instance mask's extent within 1 px. Why: pixel x of a
// nearest resize shows source pixel floor((x + 0.5) / s), so a mask edge at source column l lands at output column
// ceil(l s - 0.5), while the box's exact image is l s: they differ by at most 0.5 px, and the mask never reaches
// beyond the box by more than that (checked for every object). When downscaling, the resize also skips rows
// (columns): a mask whose outermost column holds pixels only in skipped rows loses that column, one output pixel
// more. Objects under 4 output pixels in width or height are exempt from that inward bound: a sliver of an
// occluded car can lose all but one column, or vanish (counted; they stay few, so the test keeps its teeth).
TEST(Augment, ObjectBoxesFollowTheInstanceMask) {
  SynthOptions so;
  so.width = 320, so.height = 96, so.seed = 5;
  AugmentOptions o;
  o.short_sides = {40, 64, 96, 150};  // down- and upscaling, with the truncating size rule
  o.max_long_side = 2000;
  int checked = 0, small = 0, vanished = 0, flipped = 0;
  double worst = 0;
  for (int index : {0, 12, 30, 47}) {
    const Frame f = synth_frame(so, "0001", "clone", index, 0);
    ASSERT_FALSE(f.objects.empty());
    for (int pad : {1, 8}) {
      o.pad_to = pad;
      for (std::uint64_t seed = 0; seed < 6; ++seed) {
        Sample s = sample_of(f);
        KeyedRng rng({seed, static_cast<std::uint64_t>(index)});
        augment(s, o, rng);
        ASSERT_EQ(s.objects.size(), f.objects.size());
        flipped += s.objects[0].x3d != f.objects[0].x3d;
        for (const ObjectGT& g : s.objects) {
          const auto e = extent(s, g.track_id + 1);
          const bool tiny = std::min(g.right - g.left, g.bottom - g.top) < 4.f;
          const std::string where = "frame " + std::to_string(index) + " seed " + std::to_string(seed) + " pad " +
                                    std::to_string(pad) + " track " + std::to_string(g.track_id);
          if (e[0] > e[2]) {
            ++vanished;
            EXPECT_TRUE(tiny) << "a large object vanished, " << where;
            continue;
          }
          // Outwards: never more than half a pixel (plus float rounding of the box).
          EXPECT_GE(e[0], g.left - 0.501f) << where;
          EXPECT_GE(e[1], g.top - 0.501f) << where;
          EXPECT_LE(e[2], g.right + 0.501f) << where;
          EXPECT_LE(e[3], g.bottom + 0.501f) << where;
          const float d[4] = {g.left - e[0], g.top - e[1], g.right - e[2], g.bottom - e[3]};
          if (tiny) {
            ++small;
            continue;
          }
          ++checked;
          for (float x : d) {
            worst = std::max(worst, static_cast<double>(std::fabs(x)));
            EXPECT_LE(std::fabs(x), 1.0f) << where << ": box " << g.left << " " << g.top << " " << g.right << " "
                                          << g.bottom << ", mask " << e[0] << " " << e[1] << " " << e[2] << " " << e[3];
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(flipped, 0);
  EXPECT_LT(vanished, checked / 4);
  std::printf("objects checked %d (worst |box - mask extent| %.3f px), tiny %d, vanished %d\n", checked, worst, small,
              vanished);
}

TEST(Augment, IntrinsicsFollowTheResizeAndTheFlip) {
  std::vector<ObjectGT> none;
  Intrinsics K{725, 725, 620.5, 187};  // the vKITTI principal point: the centre of a 1242 x 375 image
  resize_geometry(none, K, 1242, 375, 496, 150);
  EXPECT_NEAR(K.cx, (496 - 1) / 2.0, 1e-9);  // still the image centre
  EXPECT_NEAR(K.cy, (150 - 1) / 2.0, 1e-9);
  EXPECT_NEAR(K.fx, 725.0 * 496 / 1242, 1e-9);
  EXPECT_NEAR(K.fy, 725.0 * 150 / 375, 1e-9);
  flip_geometry(none, K, 496);
  EXPECT_NEAR(K.cx, (496 - 1) / 2.0, 1e-9);
}

// The derenderer's per-object targets and crops in data/ (original: derender3d/datasets.py): the training
// filter, mask ROI and its jitter, the 3D targets on a worked example, the ignore mask of closer objects, the
// square crop with grey padding (and PIL's zeros beyond it), and the assembled per-object item
// (test_derender_reference.cpp checks the resize against Pillow itself).
#include <gtest/gtest.h>

#include <cmath>

#include "data/derender_targets.hpp"

using namespace sdn::data;
using namespace sdn::data::derender;

TEST(DerenderTargets, TrainingFilter) {
  ObjectGT o;
  o.left = 100;
  o.right = 120;
  o.top = 50;
  o.bottom = 63;  // 20 x 13 = 260 > 256
  o.truncation = 0.1f;
  o.occupancy = 0.9f;
  EXPECT_TRUE(keep_for_training(o));
  o.bottom = 62.75f;  // 255: not more than 16^2
  EXPECT_FALSE(keep_for_training(o));
  o.bottom = 80;
  o.truncation = 0.7f;
  EXPECT_FALSE(keep_for_training(o));
  o.truncation = 0.69f;
  o.occupancy = 0.3f;
  EXPECT_FALSE(keep_for_training(o));
  shard::ObjectRow row{};
  row.left = 100, row.right = 120, row.top = 50, row.bottom = 63, row.truncation = 0.1f, row.occupancy = 0.9f;
  EXPECT_TRUE(keep_for_training(row));
  row.occupancy = 0.2f;
  EXPECT_FALSE(keep_for_training(row));
}

TEST(DerenderTargets, MaskRoiAndJitter) {
  const int w = 20, h = 10;
  std::vector<std::uint16_t> inst(w * h, 0);
  for (int y = 2; y <= 6; ++y)
    for (int x = 5; x <= 14; ++x) inst[y * w + x] = 7;
  inst[9 * w + 0] = 3;
  Roi roi{};
  ASSERT_TRUE(instance_roi(inst, w, h, 7, roi));
  EXPECT_EQ(roi, (Roi{2, 5, 7, 15}));  // bottom/right exclusive, as mask_to_roi
  EXPECT_FALSE(instance_roi(inst, w, h, 9, roi));

  const Roi big{100, 200, 150, 300};  // d = 5 vertically, 10 horizontally
  bool moved = false;
  for (std::uint64_t key = 0; key < 200; ++key) {
    sdn::KeyedRng a{key}, b{key};
    const Roi j = jitter_roi(big, a);
    EXPECT_EQ(j, jitter_roi(big, b));  // a function of the key
    EXPECT_LE(std::abs(j[0] - 100), 5);
    EXPECT_LE(std::abs(j[2] - 150), 5);
    EXPECT_LE(std::abs(j[1] - 200), 10);
    EXPECT_LE(std::abs(j[3] - 300), 10);
    moved = moved || j != big;
  }
  EXPECT_TRUE(moved);
  sdn::KeyedRng r{1};
  EXPECT_EQ(jitter_roi(Roi{0, 0, 9, 9}, r), (Roi{0, 0, 9, 9}));  // int(0.9) = 0: no jitter
}

TEST(DerenderTargets, WorkedExample) {
  ObjectGT o;
  o.x3d = 2.0f;
  o.y3d = 1.6f;
  o.z3d = 10.0f;
  o.height3d = 1.5f;
  o.width3d = 1.6f;
  o.length3d = 4.0f;
  o.rotation_y = 0.3f;
  const Intrinsics K;  // f 725, (620.5, 187)
  const Roi roi{180, 700, 240, 860};
  const Targets t = object_targets(o, roi, K);
  const double v0 = (180 - 187.0) / 725, u0 = (700 - 620.5) / 725, v1 = (240 - 187.0) / 725, u1 = (860 - 620.5) / 725;
  EXPECT_FLOAT_EQ(t.roi_norm[0], float(v0));
  EXPECT_FLOAT_EQ(t.roi_norm[3], float(u1));
  EXPECT_FLOAT_EQ(t.mroi_norm[0], float((v0 + v1) / 2));
  EXPECT_FLOAT_EQ(t.droi_norm[1], float(u1 - u0));
  EXPECT_FLOAT_EQ(t.theta, -0.3f);
  EXPECT_FLOAT_EQ(t.theta_delta[0], float(std::cos(0.3)));
  EXPECT_FLOAT_EQ(t.theta_delta[1], float(-std::sin(0.3)));
  EXPECT_FLOAT_EQ(t.rotation[2], float(-std::sin(0.15)));
  // Centre: (2, -(1.6 - 0.75), -10) = (2, -0.85, -10).
  EXPECT_FLOAT_EQ(t.translation[1], -0.85f);
  EXPECT_FLOAT_EQ(t.translation[2], -10.0f);
  EXPECT_FLOAT_EQ(t.scale[2], 1.2206f * 1.6f);
  EXPECT_FLOAT_EQ(t.log_scale[0], float(std::log(4.0)));
  // Projected centre (v, u) = (0.085, 0.2); relative to the ROI centre in ROI units.
  EXPECT_NEAR(t.translation2d[0], (0.085 - (v0 + v1) / 2) / (v1 - v0), 1e-6);
  EXPECT_NEAR(t.translation2d[1], (0.2 - (u0 + u1) / 2) / (u1 - u0), 1e-6);
  const double d2 = 4 + 0.85 * 0.85 + 100;
  EXPECT_NEAR(t.log_depth, std::log(d2 * (v1 - v0) * (u1 - u0)), 1e-5);
  EXPECT_FLOAT_EQ(squared_distance(o), float(d2));
  // Far off the box, translation2d is clipped to ±6.
  o.x3d = -8;
  const Targets c = object_targets(o, Roi{180, 700, 182, 702}, K);
  EXPECT_FLOAT_EQ(c.translation2d[1], -6.0f);
}

TEST(DerenderTargets, IgnoreMaskHoldsCloserOtherObjects) {
  const int w = 4, h = 1;
  std::vector<ObjectGT> objs(3);
  objs[0].track_id = 0, objs[0].z3d = 20;  // this one
  objs[1].track_id = 4, objs[1].z3d = 10;  // closer
  objs[2].track_id = 9, objs[2].z3d = 30;  // farther
  const std::vector<std::uint16_t> inst = {1, 5, 10, 6};  // track 5 (value 6) is not listed
  EXPECT_EQ(ignore_mask(inst, w, h, objs, 0), (std::vector<std::uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(ignore_mask(inst, w, h, objs, 2), (std::vector<std::uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(ignore_mask(inst, w, h, objs, 1), (std::vector<std::uint8_t>{0, 0, 0, 0}));
}

TEST(DerenderTargets, SquareCropPadsWithFillAndZerosBeyond) {
  // 6 x 4 single-channel image with value 10 + x + 10 y.
  const int w = 6, h = 4;
  std::vector<std::uint8_t> img(w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img[y * w + x] = std::uint8_t(10 + x + 10 * y);
  int side = 0;
  // ROI rows [1, 3), cols [1, 6): h 2, w 5 -> s 5, dh = 1, dw = 0; the square spans rows 0..4, cols 1..5.
  auto c = crop_square(img, w, h, 1, Roi{1, 1, 3, 6}, {127, 127, 127}, side);
  ASSERT_EQ(side, 5);
  EXPECT_EQ(c[0], 11);           // (row 0, col 1)
  EXPECT_EQ(c[3 * 5 + 4], 45);   // (row 3, col 5)
  // Row 4 lies beyond the image; padding covers rows up to b + dh = 4, so row 4 is past the padded image: 0.
  EXPECT_EQ(c[4 * 5 + 0], 0);
  // ROI starting above the image: padding with the fill.
  c = crop_square(img, w, h, 1, Roi{-2, 0, 2, 2}, {127, 127, 127}, side);
  ASSERT_EQ(side, 4);  // h 4, w 2: dw = 1, cols -1..2
  EXPECT_EQ(c[0], 127);          // (row -2, col -1)
  EXPECT_EQ(c[2 * 4 + 1], 10);   // (row 0, col 0)
  EXPECT_EQ(c[3 * 4 + 3], 22);   // (row 1, col 2)
  auto n = normalise_crop(std::vector<std::uint8_t>(8 * 8 * 3, 127), 8, 4);
  ASSERT_EQ(n.size(), 3u * 16);
  for (float v : n) EXPECT_FLOAT_EQ(v, (127 / 255.0f - 0.5f) / 0.25f);
  const std::vector<std::uint8_t> plane(w * h, 1);
  const auto ig = crop_plane(plane, w, h, Roi{-2, 0, 2, 2}, /*fill_one=*/true, 4);
  for (float v : ig) EXPECT_FLOAT_EQ(v, 1.0f);  // padding of the ignore mask is "ignored"
}

TEST(DerenderTargets, CropObjectAssemblesOneItem) {
  Frame f;
  f.width = 40, f.height = 20;
  f.rgb.assign(size_t(f.width) * f.height * 3, 200);
  f.instance.assign(size_t(f.width) * f.height, 0);
  f.objects.resize(2);
  f.objects[0].track_id = 4, f.objects[0].z3d = 20, f.objects[0].length3d = 4, f.objects[0].height3d = 1.5f;
  f.objects[0].width3d = 1.7f;
  f.objects[1].track_id = 7, f.objects[1].z3d = 10;  // closer, just below the first one
  for (int y = 5; y < 15; ++y)
    for (int x = 10; x < 25; ++x) f.instance[size_t(y) * f.width + x] = 5;
  for (int y = 15; y < 17; ++y)
    for (int x = 12; x < 21; ++x) f.instance[size_t(y) * f.width + x] = 8;
  ObjectCrop c;
  ASSERT_TRUE(crop_object(f, 0, nullptr, c, 15));
  EXPECT_EQ(c.roi, (Roi{5, 10, 15, 25}));
  EXPECT_EQ(c.side, 15);  // h 10, w 15: the square spans rows 3..17 and cols 10..24, inside the image
  EXPECT_EQ(c.rgb.size(), 15u * 15 * 3);
  EXPECT_EQ(c.rgb[0], 200);
  ASSERT_EQ(c.mask.size(), 15u * 15);  // 15 -> 15: no resampling, so pixels can be checked one by one
  EXPECT_FLOAT_EQ(c.mask[7 * 15 + 7], 1.0f);   // image row 10
  EXPECT_FLOAT_EQ(c.mask[0], 0.0f);            // image row 3, above the object
  EXPECT_FLOAT_EQ(c.ignore[7 * 15 + 7], 0.0f);
  EXPECT_FLOAT_EQ(c.ignore[12 * 15 + 5], 1.0f);  // image row 15, col 15: the closer object
  EXPECT_FLOAT_EQ(c.ignore[12 * 15 + 12], 0.0f);  // col 22: beside it
  EXPECT_NEAR(c.targets.droi_norm[1], 15 / 725.0, 1e-7);
  ObjectCrop d;
  ASSERT_TRUE(crop_object(f, 1, nullptr, d, 9));
  EXPECT_EQ(d.roi, (Roi{15, 12, 17, 21}));  // h 2, w 9: the square spans rows 12..20 and includes object 0
  float none = 0;
  for (float v : d.ignore) none += v;
  EXPECT_EQ(none, 0.0f);  // object 0 is farther: never ignored for object 1
  sdn::KeyedRng rng{9};
  ASSERT_TRUE(crop_object(f, 0, &rng, d, 16));
  f.objects[1].track_id = 99;  // not in the instance map
  EXPECT_FALSE(crop_object(f, 1, nullptr, d, 16));
}


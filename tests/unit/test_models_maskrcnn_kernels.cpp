// Mask R-CNN kernels on hand-computed cases: NMS with the original's +1 pixel IoU and strict suppression,
// crop_and_resize with TF semantics ((H - 1) mapping, centre sample for size 1, zero/constant extrapolation,
// batch index) and its gradient (features only), pyramid level assignment, and the box arithmetic.
// The same cases run on CUDA when a device is present.
#include <gtest/gtest.h>

#include <cmath>

#include "models/maskrcnn/boxes.hpp"
#include "models/maskrcnn/crop_and_resize.hpp"
#include "models/maskrcnn/nms.hpp"
#include "models/maskrcnn/roi_align.hpp"

namespace mr = sdn::models::maskrcnn;

namespace {

std::vector<torch::Device> devices() {
  std::vector<torch::Device> d{torch::kCPU};
  if (torch::cuda::is_available()) d.emplace_back(torch::kCUDA);
  return d;
}

std::vector<int64_t> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kLong);
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// 3x3 image v(y, x) = 10 y + x, and a second batch entry holding -v.
torch::Tensor grid_image(const torch::Device& dev) {
  auto v = (torch::arange(3).view({3, 1}) * 10 + torch::arange(3).view({1, 3})).to(torch::kFloat);
  return torch::stack({v, -v}).unsqueeze(1).to(dev);  // [2, 1, 3, 3]
}

}  // namespace

TEST(MaskRcnnNms, PlusOnePixelIouAndStrictThreshold) {
  for (const auto& dev : devices()) {
    // A (0,0,9,9): +1 area 100. B (0,0,9,8): 90, IoU 0.9. F (0,0,9,4): 50, IoU exactly 0.5 with A.
    // C is far away; D duplicates A with a lower score.
    auto boxes = torch::tensor({0.f,  0.f,  9.f, 9.f, 0.f, 0.f, 9.f, 8.f, 20.f, 20.f,
                                29.f, 29.f, 0.f, 0.f, 9.f, 9.f, 0.f, 0.f, 9.f,  4.f})
                     .view({5, 4})
                     .to(dev);
    auto scores = torch::tensor({0.9f, 0.8f, 0.7f, 0.6f, 0.5f}).to(dev);
    // IoU 0.5 is not > 0.5: F survives (the original's CUDA rule; its CPU twin used >=).
    EXPECT_EQ(to_vec(mr::nms(boxes, scores, 0.5)), (std::vector<int64_t>{0, 2, 4})) << dev;
    // Without the +1 term F's IoU with A would be 36 / 81 = 0.44 and survive 0.45.
    EXPECT_EQ(to_vec(mr::nms(boxes, scores, 0.45)), (std::vector<int64_t>{0, 2})) << dev;
    EXPECT_EQ(to_vec(mr::nms(boxes, scores, 0.95)), (std::vector<int64_t>{0, 1, 2, 4})) << dev;
    // Input order does not matter, scores do: the same boxes reversed.
    auto rev = torch::arange(4, -1, -1, torch::kLong).to(dev);
    EXPECT_EQ(to_vec(mr::nms(boxes.index_select(0, rev), scores.index_select(0, rev), 0.5)),
              (std::vector<int64_t>{4, 2, 0}))
        << dev;
    EXPECT_EQ(mr::nms(boxes.slice(0, 0, 0), scores.slice(0, 0, 0), 0.5).numel(), 0);
  }
}

TEST(MaskRcnnCropAndResize, HandCases) {
  for (const auto& dev : devices()) {
    auto img = grid_image(dev);
    auto crop = [&](std::vector<float> box, int64_t b, int64_t h, int64_t w, double extrap = 0.0) {
      auto boxes = torch::tensor(box).view({1, 4}).to(dev);
      auto ind = torch::tensor({b}, torch::kLong).to(dev);
      return mr::crop_and_resize(img, boxes, ind, h, w, extrap).to(torch::kCPU).view({h, w});
    };
    // The whole image at its own size samples the pixel grid exactly ((H - 1) mapping).
    EXPECT_TRUE(torch::allclose(crop({0, 0, 1, 1}, 0, 3, 3), img[0][0].to(torch::kCPU))) << dev;
    // Half the image at 2x2: in_y = 0 * 2 + i * 0.5 * 2 / 1 = {0, 1}.
    EXPECT_TRUE(torch::allclose(crop({0, 0, 0.5, 0.5}, 0, 2, 2), torch::tensor({0.f, 1.f, 10.f, 11.f}).view({2, 2})));
    // Size 1 samples the box centre: 0.5 (0.25 + 0.25) * 2 = 0.5 -> bilinear of 0, 1, 10, 11.
    EXPECT_NEAR(crop({0.25, 0.25, 0.25, 0.25}, 0, 1, 1).item<float>(), 5.5f, 1e-5) << dev;
    EXPECT_NEAR(crop({0.25, 0.25, 0.75, 0.75}, 0, 1, 1).item<float>(), 11.0f, 1e-5) << dev;
    // Rows outside [0, H - 1] are the extrapolation value (in_y = -1, 0, 1); batch index 1 is -v.
    auto e = crop({-0.5, 0, 0.5, 1}, 1, 3, 3, 7.0);
    EXPECT_TRUE(torch::allclose(e, torch::tensor({7.f, 7.f, 7.f, -0.f, -1.f, -2.f, -10.f, -11.f, -12.f}).view({3, 3})))
        << e;
    // A column just past the right edge (in_x = 2.2) is extrapolated, not blended with zero.
    auto r = crop({0, 0.1, 0, 1.1}, 0, 1, 2);
    EXPECT_NEAR(r[0][0].item<float>(), 0.2f, 1e-5);
    EXPECT_EQ(r[0][1].item<float>(), 0.0f);
  }
}

TEST(MaskRcnnCropAndResize, GradientReachesTheFeaturesOnly) {
  for (const auto& dev : devices()) {
    auto img = grid_image(dev).requires_grad_(true);
    auto boxes =
        torch::tensor({0.f, 0.f, 1.f, 1.f, 0.25f, 0.25f, 0.25f, 0.25f}).view({2, 4}).to(dev).requires_grad_(true);
    auto ind = torch::tensor({0, 1}, torch::kLong).to(dev);
    auto out = mr::crop_and_resize(img, boxes, ind, 3, 3);
    // The second box (size 3 at one point) samples (0.5, 0.5) nine times.
    out.sum().backward();
    auto g = img.grad().to(torch::kCPU);
    EXPECT_TRUE(torch::allclose(g[0][0], torch::ones({3, 3})));
    auto want = torch::zeros({3, 3});
    want.slice(0, 0, 2).slice(1, 0, 2).fill_(9 * 0.25f);
    EXPECT_TRUE(torch::allclose(g[1][0], want)) << g[1][0];
    EXPECT_FALSE(boxes.grad().defined());
  }
}

TEST(MaskRcnnRoiAlign, LevelsFollowTheFpnEquation) {
  // Image 1024: a 224-px box -> P4, 112 -> P3, 448 -> P5, 56 -> P2, tiny -> P2, huge -> P5, empty -> P2.
  auto px = [](double side) { return std::vector<float>{0.f, 0.f, float(side / 1024), float(side / 1024)}; };
  std::vector<float> all;
  for (double s : {224.0, 112.0, 448.0, 56.0, 4.0, 1024.0, 0.0}) {
    auto b = px(s);
    all.insert(all.end(), b.begin(), b.end());
  }
  auto levels = mr::roi_levels(torch::tensor(all).view({7, 4}), 1024);
  EXPECT_EQ(to_vec(levels), (std::vector<int64_t>{4, 3, 5, 2, 2, 5, 2}));
}

TEST(MaskRcnnRoiAlign, PyramidKeepsTheInputOrder) {
  // Level k's map is filled with k; boxes alternate levels, so the output must carry 4, 2, 5, 3.
  std::vector<torch::Tensor> feats;
  for (int k = 2; k <= 5; ++k) feats.push_back(torch::full({1, 2, 8 >> (k - 2), 8 >> (k - 2)}, float(k)));
  // Levels depend on the box size relative to the image: 224 px of 1024 -> P4, 56 -> P2, 448 -> P5, 112 -> P3.
  auto side = [](double px) { return float(px / 1024.0); };
  auto boxes = torch::tensor({0.f, 0.f, side(224), side(224), 0.f, 0.f, side(56), side(56), 0.f, 0.f, side(448),
                              side(448), 0.f, 0.f, side(112), side(112)})
                   .view({4, 4});
  auto out = mr::pyramid_roi_align(feats, boxes, torch::zeros({4}, torch::kLong), 2, 1024);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({4, 2, 2, 2}));
  EXPECT_EQ(out[0][0][0][0].item<float>(), 4.0f);
  EXPECT_EQ(out[1][0][0][0].item<float>(), 2.0f);
  EXPECT_EQ(out[2][1][1][1].item<float>(), 5.0f);
  EXPECT_EQ(out[3][0][1][0].item<float>(), 3.0f);
}

TEST(MaskRcnnBoxes, DeltasRoundTripAndIou) {
  auto box = torch::tensor({10.f, 20.f, 30.f, 60.f}).view({1, 4});
  auto gt = torch::tensor({12.f, 18.f, 40.f, 58.f}).view({1, 4});
  auto d = mr::box_refinement(box, gt);
  // centre (20, 40) -> (26, 38), size (20, 40) -> (28, 40).
  EXPECT_NEAR(d[0][0].item<float>(), 6.0f / 20, 1e-6);
  EXPECT_NEAR(d[0][1].item<float>(), -2.0f / 40, 1e-6);
  EXPECT_NEAR(d[0][2].item<float>(), std::log(28.0f / 20), 1e-6);
  EXPECT_NEAR(d[0][3].item<float>(), 0.0f, 1e-6);
  EXPECT_TRUE(torch::allclose(mr::apply_box_deltas(box, d), gt, 1e-4, 1e-4));
  // IoU without +1: (0,0,10,10) vs (0,5,10,15): 50 / 150.
  auto iou = mr::box_iou(torch::tensor({0.f, 0.f, 10.f, 10.f}).view({1, 4}),
                         torch::tensor({0.f, 5.f, 10.f, 15.f, 20.f, 20.f, 30.f, 30.f}).view({2, 4}));
  EXPECT_NEAR(iou[0][0].item<float>(), 1.0f / 3, 1e-6);
  EXPECT_EQ(iou[0][1].item<float>(), 0.0f);
  auto clipped = mr::clip_boxes(torch::tensor({-5.f, 3.f, 70.f, 80.f}).view({1, 4}), {0, 0, 64, 64});
  EXPECT_TRUE(torch::equal(clipped, torch::tensor({0.f, 3.f, 64.f, 64.f}).view({1, 4})));
}

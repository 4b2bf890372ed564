// The soft silhouette renderer and the reprojection path: a box's silhouette equals its analytic perspective
// projection (convex hull of the projected corners), gradients equal central finite differences of the
// smoothed image, following the gradient of a silhouette MSE moves an object towards its target, batching is
// exact, faces behind the camera are dropped without NaN, and the full chain (generated mesh, FFD, pose, view)
// renders and back-propagates into every differentiable output; the hard depth/normal maps are
// perspective-correct and face the camera.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "data/mesh_vehicles.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/losses.hpp"
#include "models/derender/raster_maps.hpp"
#include "models/derender/reproject.hpp"
#include "models/derender/silhouette.hpp"

using namespace sdn::models::derender;

namespace {

// A box mesh [8, 3] / [12, 3] with corners lo/hi (12 triangles, mixed winding does not matter).
void box(const std::array<double, 3>& lo, const std::array<double, 3>& hi, torch::Tensor& v, torch::Tensor& f,
         torch::Dtype dtype = torch::kFloat) {
  v = torch::empty({8, 3}, torch::kDouble);
  for (int i = 0; i < 8; ++i) {
    v[i][0] = i & 1 ? hi[0] : lo[0];
    v[i][1] = i & 2 ? hi[1] : lo[1];
    v[i][2] = i & 4 ? hi[2] : lo[2];
  }
  v = v.to(dtype);
  f = torch::tensor({0, 2, 3, 0, 3, 1, 4, 5, 7, 4, 7, 6, 0, 1, 5, 0, 5, 4, 2, 6, 7, 2, 7, 3, 0, 4, 6, 0, 6, 2, 1, 3, 7, 1, 7, 5},
                    torch::kLong)
          .reshape({12, 3});
}

double cross(const std::array<double, 2>& o, const std::array<double, 2>& a, const std::array<double, 2>& b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

// Pixel-centre mask of the convex hull of points (Andrew's monotone chain).
std::vector<int> hull_mask(std::vector<std::array<double, 2>> p, int s) {
  std::sort(p.begin(), p.end());
  std::vector<std::array<double, 2>> h(2 * p.size());
  size_t k = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  for (size_t i = p.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i - 1]) <= 0) --k;
    h[k++] = p[i - 1];
  }
  h.resize(k - 1);
  std::vector<int> m(size_t(s) * s, 0);
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x) {
      bool in = true;
      for (size_t i = 0; i < h.size(); ++i) in = in && cross(h[i], h[(i + 1) % h.size()], {double(x), double(y)}) >= 0;
      m[size_t(y) * s + x] = in;
    }
  return m;
}

torch::Tensor rotate(const torch::Tensor& v, double ax, double ay, const torch::Tensor& offset) {
  const auto rx = torch::tensor({1.0, 0.0, 0.0, 0.0, std::cos(ax), -std::sin(ax), 0.0, std::sin(ax), std::cos(ax)})
                      .reshape({3, 3}).to(v.dtype());
  const auto ry = torch::tensor({std::cos(ay), 0.0, std::sin(ay), 0.0, 1.0, 0.0, -std::sin(ay), 0.0, std::cos(ay)})
                      .reshape({3, 3}).to(v.dtype());
  return torch::matmul(v, torch::matmul(ry, rx).t()) + offset;
}

}  // namespace

TEST(SoftSilhouette, BoxMatchesAnalyticProjection) {
  const int s = 96;
  const double tan_half = 0.4;
  torch::Tensor v, f;
  box({-0.4, -0.3, -0.5}, {0.4, 0.3, 0.5}, v, f);
  for (double angle : {0.0, 0.6}) {
    const auto cam = rotate(v, 0.35, angle, torch::tensor({0.15f, -0.1f, -2.6f}));
    const auto img = render_silhouettes({cam}, {f}, {tan_half}, SilhouetteOptions().image_size(s).sigma(0.02));
    ASSERT_EQ(img.sizes(), torch::IntArrayRef({1, 1, s, s}));
    EXPECT_GE(img.min().item<float>(), 0.0f);
    EXPECT_LE(img.max().item<float>(), 1.0f);
    const auto px = project_to_pixels(cam, tan_half, s);
    std::vector<std::array<double, 2>> pts;
    for (int i = 0; i < 8; ++i) pts.push_back({px[i][0].item<double>(), px[i][1].item<double>()});
    const auto want = hull_mask(pts, s);
    const auto got = (img[0][0] > 0.5).to(torch::kInt).contiguous();
    const int* g = got.data_ptr<int>();
    double inter = 0, uni = 0, area = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      inter += want[i] && g[i];
      uni += want[i] || g[i];
      area += want[i];
    }
    EXPECT_GT(area, 0.1 * s * s);  // a real test: the box covers a good part of the image
    EXPECT_GT(inter / uni, 0.97) << "angle " << angle;
    EXPECT_EQ(img[0][0][0][0].item<float>(), 0.0f);
    EXPECT_NEAR(img[0][0][int(px[0][1].item<float>() + px[7][1].item<float>()) / 2]
                   [int(px[0][0].item<float>() + px[7][0].item<float>()) / 2].item<float>(),
                1.0f, 1e-6);
  }
}

TEST(SoftSilhouette, GradientEqualsFiniteDifferences) {
  const int s = 16;
  auto v = torch::tensor({{-0.3, -0.25, -2.0}, {0.35, -0.1, -2.2}, {0.0, 0.4, -1.9}}, torch::kDouble);
  const auto f = torch::tensor({{0, 1, 2}}, torch::kLong);
  torch::manual_seed(1);
  const auto w = torch::rand({1, 1, s, s}, torch::kDouble);
  const auto opts = SilhouetteOptions().image_size(s).sigma(2.0);
  auto loss = [&](const torch::Tensor& x) { return (render_silhouettes({x}, {f}, {0.5}, opts) * w).sum(); };
  auto x = v.clone().requires_grad_();
  loss(x).backward();
  const auto g = x.grad();
  auto fd = torch::zeros_like(v);
  const double eps = 1e-6;
  for (int i = 0; i < 3; ++i)
    for (int a = 0; a < 3; ++a) {
      auto p = v.clone(), m = v.clone();
      p[i][a] += eps;
      m[i][a] -= eps;
      fd[i][a] = (loss(p).item<double>() - loss(m).item<double>()) / (2 * eps);
    }
  const double cosine = (g * fd).sum().item<double>() / (g.norm().item<double>() * fd.norm().item<double>());
  EXPECT_GT(cosine, 0.9999);
  EXPECT_TRUE(torch::allclose(g, fd, 1e-4, 1e-6)) << g << "\n" << fd;
  EXPECT_GT(g.abs().max().item<double>(), 1e-3);

  // Evaluated in tiny chunks (recomputed chunk by chunk in backward): the same image and gradient.
  auto y = v.clone().requires_grad_();
  const auto chunked = render_silhouettes({y}, {f}, {0.5}, SilhouetteOptions().image_size(s).sigma(2.0).chunk(7));
  EXPECT_TRUE(torch::allclose(chunked, render_silhouettes({v}, {f}, {0.5}, opts), 1e-12, 1e-12));
  (chunked * w).sum().backward();
  EXPECT_TRUE(torch::allclose(y.grad(), g, 1e-12, 1e-12));
}

TEST(SoftSilhouette, GradientMovesAnObjectTowardsItsTarget) {
  const int s = 48;
  torch::Tensor v, f;
  box({-0.4, -0.3, -0.5}, {0.4, 0.3, 0.5}, v, f);
  const auto opts = SilhouetteOptions().image_size(s).sigma(1.0);
  const auto goal = torch::tensor({0.1f, 0.05f, -4.0f});
  const auto target = render_silhouettes({rotate(v, 0.3, 0.5, goal)}, {f}, {0.4}, opts).detach();
  auto t = torch::tensor({0.35f, -0.15f, -4.0f}).requires_grad_();
  auto loss_at = [&](const torch::Tensor& tr) {
    return (render_silhouettes({rotate(v, 0.3, 0.5, tr)}, {f}, {0.4}, opts) - target).pow(2).mean();
  };
  const double first = loss_at(t).item<double>();
  auto l = loss_at(t);
  l.backward();
  // The descent direction points from the start towards the goal (in x and y; z is unchanged).
  const auto dir = -t.grad().narrow(0, 0, 2);
  const auto to_goal = (goal - t.detach()).narrow(0, 0, 2);
  EXPECT_GT((dir * to_goal).sum().item<float>() / (dir.norm() * to_goal.norm()).item<float>(), 0.7);
  // Fixed, shrinking step lengths along the gradient direction (the loss scale says nothing about distances).
  double step = 0.03;
  for (int k = 0; k < 40; ++k, step *= 0.93) {
    t.mutable_grad() = torch::Tensor();
    loss_at(t).backward();
    torch::NoGradGuard no_grad;
    t -= t.grad() / (t.grad().norm() + 1e-12) * step;
  }
  const double last = loss_at(t).item<double>();
  EXPECT_LT(last, 0.3 * first);
  EXPECT_LT((t.detach() - goal).narrow(0, 0, 2).norm().item<float>(), 0.1f);
}

TEST(SoftSilhouette, BatchingIsExactAndFacesBehindTheCameraAreDropped) {
  torch::Tensor v, f;
  box({-0.4, -0.3, -0.5}, {0.4, 0.3, 0.5}, v, f);
  const auto opts = SilhouetteOptions().image_size(32);
  const auto a = rotate(v, 0.1, 0.2, torch::tensor({0.0f, 0.0f, -3.0f}));
  const auto b = rotate(v, 0.0, 1.0, torch::tensor({0.5f, 0.2f, -5.0f}));
  const auto both = render_silhouettes({a, b}, {f, f}, {0.5, 0.3}, opts);
  EXPECT_TRUE(torch::allclose(both[0], render_silhouettes({a}, {f}, {0.5}, opts)[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(both[1], render_silhouettes({b}, {f}, {0.3}, opts)[0], 1e-6, 1e-6));
  // Straddling the camera: faces with a vertex at depth <= near vanish; the gradient stays finite.
  auto c = (v + torch::tensor({0.0f, 0.0f, -0.3f})).requires_grad_();
  const auto img = render_silhouettes({c}, {f}, {0.5}, opts);
  EXPECT_TRUE(torch::isfinite(img).all().item<bool>());
  img.sum().backward();
  EXPECT_TRUE(torch::isfinite(c.grad()).all().item<bool>());
}

namespace {

MeshBank vehicle_bank() {
  MeshBank bank;
  for (const auto& m : sdn::data::vehicle_meshes()) {
    auto v = torch::empty({int64_t(m.vertices.size()), 3});
    auto f = torch::empty({int64_t(m.faces.size()), 3}, torch::kLong);
    for (size_t i = 0; i < m.vertices.size(); ++i)
      for (int a = 0; a < 3; ++a) v[int64_t(i)][a] = m.vertices[i][a];
    for (size_t i = 0; i < m.faces.size(); ++i)
      for (int a = 0; a < 3; ++a) f[int64_t(i)][a] = m.faces[i][a];
    bank.add(v, f);
  }
  return bank;
}

}  // namespace

TEST(Reproject, FullChainRendersAndBackPropagates) {
  const MeshBank bank = vehicle_bank();
  ASSERT_EQ(bank.size(), 8);
  // A car 15 m ahead, slightly right; its ROI as the true projection would roughly give.
  torch::manual_seed(2);
  auto raw = torch::zeros({2, 1552});
  raw.narrow(1, 0, 2).copy_(torch::tensor({{0.8f, 0.6f}, {0.0f, 1.0f}}));
  raw.narrow(1, 4, 3).copy_(torch::log(torch::tensor({{4.2f, 1.5f, 2.0f}, {4.4f, 1.6f, 2.1f}})));
  const auto droi = torch::tensor({{0.1f, 0.25f}, {0.09f, 0.2f}});
  const auto mroi = torch::tensor({{0.05f, 0.1f}, {0.02f, -0.2f}});
  raw.narrow(1, 7, 1).copy_(torch::log(15.0f * 15.0f * droi.prod(1, true)));
  raw.narrow(1, 16, 1536).copy_(torch::randn({2, 1536}) * 0.02);
  raw.requires_grad_();
  Derenderer model{DerendererOptions()};
  const auto out = model->decode(raw);
  const Pose pose = decode_pose(out, mroi, droi);
  const auto choice = choose_meshes(out, {0.1, 0.95});
  EXPECT_EQ(choice.index[0].item<int64_t>(), 0);
  EXPECT_EQ(choice.index[1].item<int64_t>(), 7);
  const auto focals = torch::full({2}, 725.0f);
  const auto r = reproject(bank, out, pose, choice, mroi, droi, focals, ReprojectOptions().render_size(96).image_size(64));
  ASSERT_EQ(r.masks.sizes(), torch::IntArrayRef({2, 1, 96, 96}));
  // The car fills a good part of the 64 px ROI square in the middle of the render and nothing near the border.
  const auto m0 = r.masks[0][0];
  EXPECT_GT(m0.sum().item<float>(), 0.15f * 64 * 64);
  EXPECT_LT(m0.narrow(0, 0, 8).sum().item<float>(), 1.0f);
  EXPECT_GT(m0[48][48].item<float>(), 0.99f);

  const auto per = mask_losses(r.masks, torch::ones({2, 1, 64, 64}), torch::zeros({2, 1, 64, 64}), 0.1);
  auto terms = reprojection_losses(per, choice.log_probs, out.ffd_coeffs, 10.0);
  total(terms).backward();
  const auto g = raw.grad();
  for (auto [from, len] : {std::pair<int, int>{0, 2}, {2, 2}, {4, 3}, {7, 1}, {8, 8}, {16, 1536}})
    EXPECT_GT(g.narrow(1, from, len).abs().sum().item<float>(), 0) << "outputs " << from << "+" << len;

  // The test-time view fits the whole object into the render: it reaches the border on one side.
  const auto fit = reproject(bank, out, pose, choose_meshes(out, {}), mroi, droi, focals,
                             ReprojectOptions().render_size(96).fit(true));
  const auto cols = (fit.masks[1][0] > 0.5).any(0), rows = (fit.masks[1][0] > 0.5).any(1);
  const int64_t span = std::max(cols.sum().item<int64_t>(), rows.sum().item<int64_t>());
  EXPECT_GE(span, 80);
  EXPECT_EQ(fit.zooms.sizes(), torch::IntArrayRef({2, 1}));
  // Depth and normal maps of the same objects agree with the silhouette where it is solid.
  const auto maps = render_depth_normal(fit.vertices, fit.faces, fit.tan_halfs, RasterMapsOptions().image_size(96));
  // Compared 2 px inside and outside the soft outline (coincident edges of many faces blur it by ~1 px).
  const auto solid = -torch::max_pool2d(-fit.masks, 5, 1, 2) > 0.99, empty = fit.masks < 1e-4;
  EXPECT_LT(maps.depth.masked_select(solid).max().item<float>(), 100.0f);
  EXPECT_EQ(maps.depth.masked_select(empty).min().item<float>(), 100.0f);
  EXPECT_GT(maps.normal.select(1, 2).unsqueeze(1).masked_select(solid).min().item<float>(), -1e-3f);
}

TEST(RasterMaps, DepthIsPerspectiveCorrectAndNormalsFaceTheCamera) {
  const int s = 32;
  const double tan_half = 0.5;
  // One big triangle on the slanted plane z = -3 - 0.5 x (normal (0.5, 0, 1) up to sign), covering the centre.
  const auto v = torch::tensor({{-3.0, -2.0, -1.5}, {3.0, -2.0, -4.5}, {0.0, 3.0, -3.0}}, torch::kDouble);
  const auto f = torch::tensor({{0, 2, 1}}, torch::kLong);  // clockwise seen from the camera: sign is irrelevant
  const auto m = render_depth_normal({v}, {f}, {tan_half}, RasterMapsOptions().image_size(s).anti_aliasing(false));
  ASSERT_EQ(m.depth.sizes(), torch::IntArrayRef({1, 1, s, s}));
  ASSERT_EQ(m.normal.sizes(), torch::IntArrayRef({1, 3, s, s}));
  int checked = 0;
  for (int row = 4; row < s - 4; row += 3)
    for (int col = 4; col < s - 4; col += 3) {
      const double xn = (2.0 * col + 1 - s) / s;
      const double dx = xn * tan_half;  // the ray (dx, yn * tan_half, -1) * t meets 0.5 x + z = -3 at t
      const double t = -3.0 / (0.5 * dx - 1);
      const double d = m.depth[0][0][row][col].item<double>();
      if (d >= 100) continue;  // outside the triangle
      EXPECT_NEAR(d, t, 1e-9) << row << "," << col;
      EXPECT_NEAR(m.normal[0][0][row][col].item<double>(), 0.5 / std::sqrt(1.25), 1e-9);
      EXPECT_NEAR(m.normal[0][2][row][col].item<double>(), 1 / std::sqrt(1.25), 1e-9);
      ++checked;
    }
  EXPECT_GT(checked, 20);
  EXPECT_EQ(m.depth[0][0][0][0].item<double>(), 100.0);  // background: far
  EXPECT_EQ(m.normal[0][2][0][0].item<double>(), 0.0);

  // A box: the nearest face wins; with anti-aliasing the maps are the 2x2 means of the double-size render.
  torch::Tensor bv, bf;
  box({-0.5, -0.5, -0.5}, {0.5, 0.5, 0.5}, bv, bf, torch::kDouble);
  bv = bv + torch::tensor({0.0, 0.0, -3.0}, torch::kDouble);
  const auto aa = render_depth_normal({bv}, {bf}, {tan_half}, RasterMapsOptions().image_size(s));
  EXPECT_NEAR(aa.depth[0][0][s / 2][s / 2].item<double>(), 2.5, 1e-9);
  EXPECT_NEAR(aa.normal[0][2][s / 2][s / 2].item<double>(), 1.0, 1e-9);
  const auto big = render_depth_normal({bv}, {bf}, {tan_half}, RasterMapsOptions().image_size(2 * s).anti_aliasing(false));
  EXPECT_TRUE(torch::allclose(aa.depth, torch::avg_pool2d(big.depth, 2)));
}

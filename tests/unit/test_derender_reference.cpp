// Cross-checks of the derenderer's parts against the original's own code and libraries, run by Debian's
// /usr/bin/python3 (each test is skipped without it): the .obj loader and FFD (nr.load_obj + ShapenetObj,
// models/transforms.py FFD), the pose and perspective transform (Derenderer3d.render, PerspectiveTransform), all
// carried by bench/derender_reference.py, and the crops (pad, crop, bilinear resize) against Pillow itself.
// Slower (Python start and torch import), so a binary of its own.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "data/derender_targets.hpp"
#include "data/mesh.hpp"
#include "data/mesh_ffd.hpp"
#include "data/mesh_vehicles.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/derenderer.hpp"

using namespace sdn::data;
using namespace sdn::data::derender;
using namespace sdn::models::derender;

namespace {

FfdCoefficients random_coefficients(unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> n(0, scale);
  FfdCoefficients c{};
  for (auto& x : c) x = n(gen);
  return c;
}

Derenderer& shared_model() {
  static Derenderer model{DerendererOptions()};
  return model;
}

}  // namespace

namespace {

bool python_has_torch() {
  static const bool has = std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
  return has;
}

std::string reference_script() {
  const char* src = std::getenv("SDN_SOURCE_DIR");
  return std::string(src ? src : ".") + "/bench/derender_reference.py";
}

std::string temp(const std::string& name) {
  return ::testing::TempDir() + "sdn_mesh_" + std::to_string(getpid()) + "_" + name;
}

}  // namespace

// The original's code itself (bench/derender_reference.py carries it): nr.load_obj + ShapenetObj, and FFD.
TEST(MeshReference, LoaderAndFfdEqualTheOriginalCode) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch and numpy not available";
  // An off-centre, unevenly scaled mesh in raw axes, plus a quad (fan-triangulated by both).
  Mesh raw = to_shapenet_frame(vehicle_mesh(VehicleKind::kPickup));
  for (auto& v : raw.vertices) v = {0.37f * v[0] + 0.2f, 0.21f * v[1] - 0.05f, 0.83f * v[2] + 0.01f};
  std::string text = obj_text(raw) + "f 1/1/1 2/2/2 3/3/3 4/4/4\n";
  const std::string in = temp("in.obj"), out = temp("out.txt");
  {
    std::ofstream f(in);
    f << text;
  }
  ASSERT_EQ(std::system(("/usr/bin/python3 " + reference_script() + " load_obj " + in + " " + out).c_str()), 0);
  const Mesh want = load_obj(out);  // the reference's normalised vertices and faces, as .obj
  const Mesh got = load_shapenet_obj(in);
  ASSERT_EQ(got.faces, want.faces);
  ASSERT_EQ(got.vertices.size(), want.vertices.size());
  for (size_t i = 0; i < got.vertices.size(); ++i)
    for (int a = 0; a < 3; ++a) ASSERT_NEAR(got.vertices[i][a], want.vertices[i][a], 2e-6) << "vertex " << i;

  const auto coeffs = random_coefficients(21, 0.1f);
  {
    std::ofstream f(in);
    f.precision(9);
    for (float c : coeffs) f << c << ' ';
    f << '\n';
    for (const auto& v : got.vertices) f << v[0] << ' ' << v[1] << ' ' << v[2] << '\n';
  }
  ASSERT_EQ(std::system(("/usr/bin/python3 " + reference_script() + " ffd " + in + " " + out).c_str()), 0);
  const Mesh deformed = ffd_deform(got, coeffs);
  std::ifstream r(out);
  double worst = 0, moved = 0;
  for (size_t i = 0; i < deformed.vertices.size(); ++i)
    for (int a = 0; a < 3; ++a) {
      double x = 0;
      ASSERT_TRUE(r >> x) << "reference output too short";
      worst = std::max(worst, std::fabs(x - deformed.vertices[i][a]));
      moved = std::max(moved, std::fabs(x - got.vertices[i][a]));
    }
  EXPECT_LT(worst, 1e-6);
  EXPECT_GT(moved, 0.02);  // the coefficients did deform it
  std::remove(in.c_str());
  std::remove(out.c_str());
}

// The original's own pose code (render()'s preamble and PerspectiveTransform, in bench/derender_reference.py).
TEST(DerenderPose, EqualsTheOriginalCode) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch and numpy not available";
  const std::vector<std::vector<float>> objects = {
      {-0.02f, 0.1f, 0.06f, 0.3f, 725, 0.8f, 0.6f, 0.3f, -0.2f, 1.4f, 0.4f, 0.7f, 3.0f},
      {0.01f, -0.25f, 0.09f, -0.12f, 725, -0.2f, -0.9f, -0.1f, 0.4f, 1.5f, 0.5f, 0.75f, -1.5f}};
  const auto mesh = sdn::data::vehicle_mesh(sdn::data::VehicleKind::kCoupe);
  auto v = torch::empty({int64_t(mesh.vertices.size()), 3});
  for (size_t i = 0; i < mesh.vertices.size(); ++i)
    for (int a = 0; a < 3; ++a) v[int64_t(i)][a] = mesh.vertices[i][a];
  const std::string base = ::testing::TempDir() + "sdn_pose_" + std::to_string(getpid());
  {
    std::ofstream f(base + ".in");
    f.precision(9);
    for (const auto& o : objects) {
      for (float x : o) f << x << ' ';
      f << '\n';
    }
    for (const auto& p : mesh.vertices) f << p[0] << ' ' << p[1] << ' ' << p[2] << '\n';
  }
  const char* src = std::getenv("SDN_SOURCE_DIR");
  const std::string cmd = "/usr/bin/python3 " + std::string(src ? src : ".") + "/bench/derender_reference.py pose " +
                          base + ".in " + base + ".out";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(base + ".out");
  auto next = [&](int64_t n) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& e : x) EXPECT_TRUE(static_cast<bool>(in >> e)) << "reference output too short";
    return torch::tensor(x);
  };

  const int64_t n = static_cast<int64_t>(objects.size());
  auto rows = torch::empty({n, 13});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 13; ++k) rows[i][k] = objects[size_t(i)][size_t(k)];
  torch::Tensor mroi, droi;
  roi_centre_size(rows.narrow(1, 0, 4), mroi, droi);
  auto raw = torch::zeros({n, 1552});
  raw.narrow(1, 0, 8).copy_(rows.narrow(1, 5, 8));
  const auto out = shared_model()->decode(raw);
  const Pose p = decode_pose(out, mroi, droi);
  torch::Tensor centres, zooms;
  training_view(p, mroi, droi, rows.narrow(1, 4, 1), 256, centres, zooms);
  auto near = [](const torch::Tensor& got, const torch::Tensor& want, const char* what) {
    EXPECT_TRUE(torch::allclose(got.reshape({-1}), want, 1e-5, 1e-5)) << what << ":\n" << got << "\n" << want;
  };
  for (int64_t i = 0; i < n; ++i) {
    near(p.thetas[i], next(1), "theta");
    near(p.rotations[i], next(4), "rotation");
    near(p.scales[i], next(3), "scale");
    near(p.depths[i], next(1), "depth");
    near(p.center2ds[i], next(2), "center2d");
    near(p.translations[i], next(3), "translation");
    near(p.alphas[i], next(1), "alpha");
    near(centres[i], next(3), "perspective translation");
    near(zooms[i], next(1), "zoom");
    near(perspective_transform(v, p.scales[i], p.rotations[i], p.translations[i], centres[i], zooms[i]),
         next(3 * v.size(0)), "training-view vertices");
    torch::Tensor fit_zoom;
    const auto fit = perspective_transform_fit(v, p.scales[i], p.rotations[i], p.translations[i], 384 / (2.0 * 725),
                                               fit_zoom);
    near(fit, next(3 * v.size(0)), "fit-view vertices");
    near(fit_zoom, next(1), "fit zoom");
  }
  std::remove((base + ".in").c_str());
  std::remove((base + ".out").c_str());
}

namespace {

bool python_has_pil() {
  static const bool has = std::system("/usr/bin/python3 -c 'import PIL.Image' >/dev/null 2>&1") == 0;
  return has;
}

// The original's Transforms.crop_square (torchvision 0.2's pad = ImageOps.expand, crop = Image.crop) and
// resize, in PIL, on raw bytes: prints nothing, writes the resized crop's bytes.
const char* kCropScript = R"(
import sys, PIL.Image as I, PIL.ImageOps as O
mode, w, h, t, l, b, r, fill, size, src, dst = sys.argv[1:]
w, h, t, l, b, r, fill, size = map(int, (w, h, t, l, b, r, fill, size))
image = I.frombytes(mode, (w, h), open(src, 'rb').read())
roi = [t, l, b, r]
hh = roi[2] - roi[0]; ww = roi[3] - roi[1]; s = max(hh, ww); dh = (s - hh) // 2; dw = (s - ww) // 2
padding = [-min(0, roi[1] - dw), -min(0, roi[0] - dh), max(0, roi[3] + dw - image.width), max(0, roi[2] + dh - image.height)]
_l = roi[1] - dw + padding[0]; _t = roi[0] - dh + padding[1]
image = O.expand(image, border=tuple(padding), fill=(fill, fill, fill) if mode == 'RGB' else fill)
image = image.crop((_l, _t, _l + s, _t + s)).resize((size, size), I.BILINEAR)
open(dst, 'wb').write(image.tobytes())
)";

std::vector<std::uint8_t> pil_crop(const std::vector<std::uint8_t>& img, const std::string& mode, int w, int h,
                                   const Roi& roi, int fill, int size) {
  const std::string base = ::testing::TempDir() + "sdn_crop_" + std::to_string(getpid());
  {
    std::ofstream f(base + ".py");
    f << kCropScript;
    std::ofstream d(base + ".in", std::ios::binary);
    d.write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
  }
  std::string cmd = "/usr/bin/python3 " + base + ".py " + mode + " " + std::to_string(w) + " " + std::to_string(h);
  for (int v : roi) cmd += " " + std::to_string(v);
  cmd += " " + std::to_string(fill) + " " + std::to_string(size) + " " + base + ".in " + base + ".out";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(base + ".out", std::ios::binary);
  std::vector<std::uint8_t> out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* ext : {".py", ".in", ".out"}) std::remove((base + ext).c_str());
  return out;
}

}  // namespace

// The whole crop chain of the original's transform_rgb / transform_mask / transform_ignore, through Pillow.
TEST(DerenderTargets, CropsEqualTheOriginalTransformsThroughPillow) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 with PIL not available";
  const int w = 90, h = 50;
  std::mt19937 gen(3);
  std::vector<std::uint8_t> rgb(size_t(w) * h * 3), plane(size_t(w) * h);
  for (auto& p : rgb) p = std::uint8_t(gen() % 256);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) plane[size_t(y) * w + x] = (x - 40) * (x - 40) + 4 * (y - 30) * (y - 30) < 500;
  std::vector<std::uint8_t> plane255(plane.size());
  for (size_t p = 0; p < plane.size(); ++p) plane255[p] = plane[p] ? 255 : 0;
  // Inside; over the top-left corner; past the bottom-right with odd s - w (PIL's zeros beyond the padding).
  for (const Roi& roi : {Roi{10, 20, 40, 60}, Roi{-6, -9, 20, 25}, Roi{30, 70, 58, 95}, Roi{5, 5, 12, 80}}) {
    SCOPED_TRACE(testing::Message() << roi[0] << "," << roi[1] << "," << roi[2] << "," << roi[3]);
    int side = 0;
    const auto sq = crop_square(rgb, w, h, 3, roi, {127, 127, 127}, side);
    const auto x = normalise_crop(sq, side, 224);
    const auto want = pil_crop(rgb, "RGB", w, h, roi, 127, 224);
    ASSERT_EQ(want.size(), size_t(224) * 224 * 3);
    size_t diff = 0;
    for (size_t p = 0; p < size_t(224) * 224; ++p)
      for (int c = 0; c < 3; ++c) {
        const float v = x[size_t(c) * 224 * 224 + p];
        diff += std::lround((v * 0.25f + 0.5f) * 255.0f) != want[p * 3 + size_t(c)];
      }
    EXPECT_EQ(diff, 0u);
    for (bool fill_one : {false, true}) {
      const auto m = crop_plane(plane, w, h, roi, fill_one, 256);
      const auto pm = pil_crop(plane255, "L", w, h, roi, fill_one ? 255 : 0, 256);
      ASSERT_EQ(pm.size(), m.size());
      size_t d = 0;
      for (size_t p = 0; p < m.size(); ++p) d += std::lround(m[p] * 255.0f) != pm[p];
      EXPECT_EQ(d, 0u) << (fill_one ? "ignore" : "mask");
    }
  }
}

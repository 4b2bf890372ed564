// Cross-checks of the derenderer's parts against the original's own code and libraries, run by Debian's
// /usr/bin/python3 (each test is skipped without it): the .obj loader and FFD (nr.load_obj + ShapenetObj,
// models/transforms.py FFD), the pose and perspective transform (Derenderer3d.render, PerspectiveTransform), all
// carried by bench/derender_reference.py, and the bilinear resize against Pillow itself. Slower (Python start
// and torch import), so a binary of its own.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>

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

std::vector<std::uint8_t> pil_resize(const std::vector<std::uint8_t>& img, int w, int h, int c, int ow, int oh) {
  const std::string base = ::testing::TempDir() + "sdn_pil_" + std::to_string(getpid());
  {
    std::ofstream f(base + ".in", std::ios::binary);
    f.write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
  }
  const std::string mode = c == 3 ? "RGB" : "L";
  const std::string cmd = "/usr/bin/python3 -c \"import PIL.Image as I; d=open('" + base + ".in','rb').read(); "
                          "open('" + base + ".out','wb').write(I.frombytes('" + mode + "',(" + std::to_string(w) +
                          "," + std::to_string(h) + "),d).resize((" + std::to_string(ow) + "," + std::to_string(oh) +
                          "),I.BILINEAR).tobytes())\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(base + ".out", std::ios::binary);
  std::vector<std::uint8_t> out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove((base + ".in").c_str());
  std::remove((base + ".out").c_str());
  return out;
}

}  // namespace

TEST(DerenderTargets, BilinearResizeEqualsPillow) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 with PIL not available";
  std::mt19937 gen(7);
  struct Case { int w, h, c, ow, oh; };
  for (const Case& k : {Case{300, 300, 3, 224, 224}, Case{61, 61, 3, 224, 224}, Case{513, 513, 1, 256, 256},
                        Case{37, 53, 3, 224, 224}}) {
    std::vector<std::uint8_t> img(size_t(k.w) * k.h * k.c);
    for (auto& p : img) p = std::uint8_t(gen() % 256);
    // Smooth regions too, where rounding differences would show as off-by-one levels.
    for (int x = 0; x < k.w * k.c; ++x) img[size_t(x)] = std::uint8_t(x % 256);
    const auto ours = resize_pil_bilinear(img, k.w, k.h, k.c, k.ow, k.oh);
    const auto theirs = pil_resize(img, k.w, k.h, k.c, k.ow, k.oh);
    ASSERT_EQ(ours.size(), theirs.size());
    size_t diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) diff += ours[i] != theirs[i];
    EXPECT_EQ(diff, 0u) << k.w << "x" << k.h << " -> " << k.ow << "x" << k.oh;
  }
}

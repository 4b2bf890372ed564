// The derenderer's meshes in data/: .obj parsing (corner formats, fan triangulation, relative indices, errors
// naming file:line), the original's ShapeNet normalisation and its inverse, the 8 generated vehicles (closed,
// outward, unit box, plausible profiles, .obj round trip), the constrained FFD against a direct Bernstein
// evaluation written out here (test_derender_reference.cpp compares both with the original's code).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/error.hpp"
#include "data/mesh.hpp"
#include "data/mesh_ffd.hpp"
#include "data/mesh_vehicles.hpp"

using namespace sdn::data;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_obj(text, "car.obj");
  } catch (const sdn::Error& e) {
    return e.what();
  }
  return "";
}

// A closed box with corners at lo/hi, outward triangles.
Mesh box(std::array<float, 3> lo, std::array<float, 3> hi) {
  Mesh m;
  for (int i = 0; i < 8; ++i) m.vertices.push_back({i & 1 ? hi[0] : lo[0], i & 2 ? hi[1] : lo[1], i & 4 ? hi[2] : lo[2]});
  const int q[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (auto& f : q) {
    m.faces.push_back({f[0], f[1], f[2]});
    m.faces.push_back({f[0], f[2], f[3]});
  }
  return m;
}

}  // namespace

TEST(ObjParse, CornerFormatsFansAndRelativeIndices) {
  const Mesh m = parse_obj(
      "# comment\nmtllib x.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvn 0 0 1\n"
      "f 1//1 2//1 3//1 4//1\nf 1/2/3 3/1/1 4\nf -4 -3 -1\n",
      "quad.obj");
  ASSERT_EQ(m.vertices.size(), 4u);
  ASSERT_EQ(m.faces.size(), 4u);
  EXPECT_EQ(m.faces[0], (std::array<std::int32_t, 3>{0, 1, 2}));
  EXPECT_EQ(m.faces[1], (std::array<std::int32_t, 3>{0, 2, 3}));
  EXPECT_EQ(m.faces[2], (std::array<std::int32_t, 3>{0, 2, 3}));
  EXPECT_EQ(m.faces[3], (std::array<std::int32_t, 3>{0, 1, 3}));
}

TEST(ObjParse, ErrorsNameTheFileAndLine) {
  EXPECT_NE(error_of("v 0 0 0\nv 1 0 0\nf 1 2 3\n").find("car.obj:3: vertex index 3 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of("v 0 0 0\nv 1 zero 0\n").find("car.obj:2: `zero` is not a finite number"), std::string::npos);
  EXPECT_NE(error_of("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2\n").find("car.obj:4: a face needs at least three corners"),
            std::string::npos);
  EXPECT_NE(error_of("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 0 2\n").find("car.obj:4:"), std::string::npos);
  EXPECT_NE(error_of("v 0 0 0\n").find("car.obj: no faces"), std::string::npos);
  EXPECT_THROW(load_obj("/nonexistent/dir/model.obj"), sdn::Error);
}

TEST(ObjNormalise, UnitBoxAxisReorderAndNegatedX) {
  // Extents 2 (x), 4 (y), 8 (z), off-centre: after normalisation each axis spans [-0.5, 0.5] and
  // (x, y, z) -> (-z, y, x).
  Mesh m = box({1, -1, 10}, {3, 3, 18});
  m.name = "box";
  normalise_shapenet(m);
  std::array<float, 3> lo{}, hi{};
  bounds(m, lo, hi);
  for (int a = 0; a < 3; ++a) {
    EXPECT_FLOAT_EQ(lo[a], -0.5f);
    EXPECT_FLOAT_EQ(hi[a], 0.5f);
  }
  // Vertex 7 was (3, 3, 18) = the max corner: normalised (0.5, 0.5, 0.5) -> (-0.5, 0.5, 0.5).
  EXPECT_FLOAT_EQ(m.vertices[7][0], -0.5f);
  EXPECT_FLOAT_EQ(m.vertices[7][1], 0.5f);
  EXPECT_FLOAT_EQ(m.vertices[7][2], 0.5f);
  // Vertex 1 was (3, -1, 10): (0.5, -0.5, -0.5) -> (0.5, -0.5, 0.5).
  EXPECT_FLOAT_EQ(m.vertices[1][0], 0.5f);
  EXPECT_FLOAT_EQ(m.vertices[1][2], 0.5f);
  EXPECT_GT(signed_volume(box({1, -1, 10}, {3, 3, 18})), 0);
  Mesh flat = box({0, 0, 0}, {1, 0, 1});
  EXPECT_THROW(normalise_shapenet(flat), sdn::Error);
}

TEST(VehicleMeshes, EightClosedOutwardUnitBoxMeshes) {
  const auto meshes = vehicle_meshes();
  ASSERT_EQ(meshes.size(), 8u);
  for (size_t k = 0; k < meshes.size(); ++k) {
    const Mesh& m = meshes[k];
    SCOPED_TRACE(m.name);
    EXPECT_EQ(m.name, vehicle_kind_name(static_cast<VehicleKind>(k)));
    EXPECT_EQ(open_edge_count(m), 0);
    EXPECT_GT(signed_volume(m), 0.3);  // most of the unit box: a solid body, not a shell
    EXPECT_LT(signed_volume(m), 1.0);
    EXPECT_GT(m.faces.size(), 300u);
    EXPECT_LT(m.faces.size(), 2000u);
    std::array<float, 3> lo{}, hi{};
    bounds(m, lo, hi);
    for (int a = 0; a < 3; ++a) {
      EXPECT_NEAR(lo[a], -0.5f, 1e-6);
      EXPECT_NEAR(hi[a], 0.5f, 1e-6);
    }
    // Mirror-symmetric across z = 0 (the FFD symmetry constraint assumes it): every vertex has a twin.
    for (const auto& v : m.vertices) {
      bool twin = false;
      for (const auto& u : m.vertices)
        twin = twin || (std::fabs(u[0] - v[0]) < 1e-5f && std::fabs(u[1] - v[1]) < 1e-5f &&
                        std::fabs(u[2] + v[2]) < 1e-5f);
      ASSERT_TRUE(twin);
    }
  }
  EXPECT_EQ(vehicle_meshes()[0].vertices, meshes[0].vertices);  // a pure function of the options
}

TEST(VehicleMeshes, PartsMarkWheelsAndGlassAboveTheBeltLine) {
  for (int k = 0; k < kVehicleMeshCount; ++k) {
    const auto kind = static_cast<VehicleKind>(k);
    SCOPED_TRACE(vehicle_kind_name(kind));
    const VehicleMeshOptions o;
    const Mesh m = vehicle_mesh(kind, o);
    const auto parts = vehicle_mesh_parts(kind, o);
    ASSERT_EQ(parts.size(), m.faces.size());
    size_t wheels = 0, glass = 0;
    float glass_low = 1, wheel_high = -1;
    for (size_t f = 0; f < parts.size(); ++f) {
      float lo = 1, hi = -1;
      for (int c = 0; c < 3; ++c) {
        const float y = m.vertices[static_cast<size_t>(m.faces[f][c])][1];
        lo = std::min(lo, y), hi = std::max(hi, y);
      }
      if (parts[f] == VehiclePart::kWheel) ++wheels, wheel_high = std::max(wheel_high, hi);
      if (parts[f] == VehiclePart::kGlass) ++glass, glass_low = std::min(glass_low, lo);
    }
    EXPECT_LT(wheel_high, 0.1f) << "wheels sit low";
    // Four wheel prisms: 2 triangles per side quad and 2 * (n - 2) in the caps.
    EXPECT_EQ(wheels, 4u * (4 * o.wheel_segments - 4));
    EXPECT_GT(glass, 20u);
    EXPECT_LT(glass, parts.size() / 2);
    EXPECT_GT(glass_low, -0.3f) << "no glass near the ground";
  }
}

TEST(VehicleMeshes, ProfilesLookLikeTheirKind) {
  // Highest point over the last 15 % of the length (x > 0.35) in the unit box (top = 0.5):
  // cars have a low bonnet, the bus is a box; the van is taller than the sedan in metres.
  auto front_height = [](const Mesh& m) {
    float top = -1;
    for (const auto& v : m.vertices)
      if (v[0] > 0.35f) top = std::max(top, v[1]);
    return top;
  };
  const auto meshes = vehicle_meshes();
  for (auto kind : {VehicleKind::kSedan, VehicleKind::kHatchback, VehicleKind::kCoupe, VehicleKind::kPickup})
    EXPECT_LT(front_height(meshes[size_t(kind)]), 0.2f) << vehicle_kind_name(kind);
  EXPECT_GT(front_height(meshes[size_t(VehicleKind::kBus)]), 0.45f);
  EXPECT_GT(vehicle_kind_size(VehicleKind::kVan)[1], vehicle_kind_size(VehicleKind::kSedan)[1]);
  EXPECT_GT(vehicle_kind_size(VehicleKind::kBus)[0], 2 * vehicle_kind_size(VehicleKind::kSedan)[0]);
  // The pickup's bed: the roof is much lower behind the cab than over it.
  float bed = -1, cab = -1;
  for (const auto& v : meshes[size_t(VehicleKind::kPickup)].vertices) {
    if (v[0] < -0.2f) bed = std::max(bed, v[1]);
    if (std::fabs(v[0] - 0.05f) < 0.06f) cab = std::max(cab, v[1]);
  }
  EXPECT_LT(bed, cab - 0.3f);
  VehicleMeshOptions fine;
  fine.stations = 200;
  fine.wheel_segments = 64;
  EXPECT_GT(vehicle_mesh(VehicleKind::kSedan, fine).faces.size(), 2500u);
  fine.stations = 1;
  EXPECT_THROW(vehicle_mesh(VehicleKind::kSedan, fine), sdn::UsageError);
}

TEST(VehicleMeshes, WrittenObjReadsBackThroughTheShapenetLoader) {
  const std::string dir = ::testing::TempDir() + "sdn_meshes_" + std::to_string(getpid());
  const auto paths = write_vehicle_meshes(dir);
  const auto meshes = vehicle_meshes();
  ASSERT_EQ(paths.size(), 8u);
  EXPECT_NE(paths[5].find("5-bus.obj"), std::string::npos);
  for (size_t k = 0; k < paths.size(); ++k) {
    const Mesh back = load_shapenet_obj(paths[k]);
    ASSERT_EQ(back.vertices.size(), meshes[k].vertices.size());
    ASSERT_EQ(back.faces, meshes[k].faces);
    for (size_t i = 0; i < back.vertices.size(); ++i)
      for (int a = 0; a < 3; ++a) ASSERT_NEAR(back.vertices[i][a], meshes[k].vertices[i][a], 1e-6);
  }
  std::filesystem::remove_all(dir);
}

namespace {

// The FFD written out directly: sum_ijk C(3,i)C(3,j)C(3,k) (0.5+x)^i (0.5-x)^(3-i) ... (P0_ijk + dP_ijk).
std::array<double, 3> direct_bernstein(const std::array<float, 3>& v, const FfdCoefficients& dp) {
  auto bern = [](int n, double t) {
    const double c[4] = {1, 3, 3, 1};
    return c[n] * std::pow(0.5 + t, n) * std::pow(0.5 - t, 3 - n);
  };
  std::array<double, 3> out{0, 0, 0};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) {
        const double w = bern(i, v[0]) * bern(j, v[1]) * bern(k, v[2]);
        const double p0[3] = {i / 3.0 - 0.5, j / 3.0 - 0.5, k / 3.0 - 0.5};
        for (int c = 0; c < 3; ++c) out[c] += w * (p0[c] + dp[ffd_index(c, i, j, k)]);
      }
  return out;
}

FfdCoefficients random_coefficients(unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> n(0, scale);
  FfdCoefficients c{};
  for (auto& x : c) x = n(gen);
  return c;
}

}  // namespace

TEST(Ffd, ConstraintsAreSymmetryThenHomogeneity) {
  const auto raw = random_coefficients(3, 0.1f);
  const auto d = constrain_ffd(raw);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) {
        // Mirror across z = 0: x, y even in k; z odd.
        EXPECT_FLOAT_EQ(d[ffd_index(0, i, j, k)], d[ffd_index(0, i, j, 3 - k)]);
        EXPECT_FLOAT_EQ(d[ffd_index(1, i, j, k)], d[ffd_index(1, i, j, 3 - k)]);
        EXPECT_FLOAT_EQ(d[ffd_index(2, i, j, k)], -d[ffd_index(2, i, j, 3 - k)]);
      }
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k) {
      EXPECT_FLOAT_EQ(d[ffd_index(0, i, 0, k)], d[ffd_index(0, i, 1, k)]);
      EXPECT_FLOAT_EQ(d[ffd_index(2, i, 0, k)], d[ffd_index(2, i, 1, k)]);
      // y of layers 0 and 1 stays their own (symmetrised) value.
      EXPECT_FLOAT_EQ(d[ffd_index(1, i, 0, k)], (raw[ffd_index(1, i, 0, k)] + raw[ffd_index(1, i, 0, 3 - k)]) / 2);
      // Layer 2 is only symmetrised: x = mean of the k and 3-k raw values.
      EXPECT_FLOAT_EQ(d[ffd_index(0, i, 2, k)], (raw[ffd_index(0, i, 2, k)] + raw[ffd_index(0, i, 2, 3 - k)]) / 2);
    }
  const auto again = constrain_ffd(d);  // a projection: constrained lattices are left alone
  for (int n = 0; n < kFfdCoefficients; ++n) EXPECT_NEAR(again[size_t(n)], d[size_t(n)], 1e-7);
}

TEST(Ffd, DeformationMatchesDirectBernsteinEvaluation) {
  const Mesh m = vehicle_mesh(VehicleKind::kHatchback);
  const Mesh same = ffd_deform(m, FfdCoefficients{});
  for (size_t i = 0; i < m.vertices.size(); ++i)
    for (int a = 0; a < 3; ++a) ASSERT_NEAR(same.vertices[i][a], m.vertices[i][a], 1e-6);

  const auto raw = random_coefficients(11, 0.05f);
  const auto dp = constrain_ffd(raw);
  const Mesh out = ffd_deform(m, raw);
  double moved = 0;
  for (size_t i = 0; i < m.vertices.size(); ++i) {
    const auto want = direct_bernstein(m.vertices[i], dp);
    for (int a = 0; a < 3; ++a) {
      ASSERT_NEAR(out.vertices[i][a], want[size_t(a)], 1e-6);
      moved = std::max(moved, std::fabs(out.vertices[i][a] - double(m.vertices[i][a])));
    }
  }
  EXPECT_GT(moved, 0.01);  // the coefficients did deform it
  EXPECT_EQ(out.faces, m.faces);
  EXPECT_EQ(open_edge_count(out), 0);
}

TEST(Ffd, SymmetricMeshesStaySymmetric) {
  const Mesh m = vehicle_mesh(VehicleKind::kSuv);
  const Mesh out = ffd_deform(m, random_coefficients(5, 0.08f));
  // The twin of a vertex (z -> -z) maps to the twin of its image.
  for (size_t i = 0; i < m.vertices.size(); ++i) {
    auto mirrored = m.vertices[i];
    mirrored[2] = -mirrored[2];
    Mesh one;
    one.vertices = {mirrored};
    const auto image = ffd_deform(one, random_coefficients(5, 0.08f)).vertices[0];
    ASSERT_NEAR(image[0], out.vertices[i][0], 1e-6);
    ASSERT_NEAR(image[1], out.vertices[i][1], 1e-6);
    ASSERT_NEAR(image[2], -out.vertices[i][2], 1e-6);
  }
}

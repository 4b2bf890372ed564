// `sdn synth`'s vehicles as meshes: the z-buffer against an exact ray cast of a box, the per-track shapes (all
// 8 generated meshes occur, deformed, fitted to the unit box, deterministic), and in rendered frames: every
// instance pixel lies inside its vehicle's 3D box, silhouettes are smaller than their boxes' (a mesh, not a
// box), and the side file names each track's mesh.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "data/mesh_vehicles.hpp"
#include "data/synth.hpp"
#include "data/synth_mesh.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
using namespace sdn::data::synth;
namespace dt = sdn::data::testing;

namespace {

// A closed, outward unit box in the object frame (each axis [-0.5, 0.5]).
VehicleShape unit_box() {
  VehicleShape s;
  for (int i = 0; i < 8; ++i)
    s.geometry.vertices.push_back({i & 1 ? 0.5f : -0.5f, i & 2 ? 0.5f : -0.5f, i & 4 ? 0.5f : -0.5f});
  const int q[6][4] = {{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}};
  for (auto& f : q) {
    s.geometry.faces.push_back({f[0], f[1], f[2]});
    s.geometry.faces.push_back({f[0], f[2], f[3]});
  }
  s.parts.assign(s.geometry.faces.size(), VehiclePart::kBody);
  return s;
}

// Depth of the ray d = ((u-cx)/fx, (v-cy)/fy, 1) entering the motgt box (bottom centre loc, yaw ry; x along
// the length, y down from the bottom face, z along the width); +inf when it misses.
double ray_box_depth(const Vec3& d, const Vec3& loc, double ry, double l, double h, double w) {
  const double c = std::cos(ry), s = std::sin(ry);
  auto to_local = [&](const Vec3& p) { return Vec3{c * p.x - s * p.z, p.y, s * p.x + c * p.z}; };
  const Vec3 o = to_local({-loc.x, -loc.y, -loc.z}), dl = to_local(d);
  const double oo[3] = {o.x, o.y, o.z}, dd[3] = {dl.x, dl.y, dl.z};
  const double lo[3] = {-l / 2, -h, -w / 2}, hi[3] = {l / 2, 0, w / 2};
  double t0 = -std::numeric_limits<double>::infinity(), t1 = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    if (std::fabs(dd[a]) < 1e-12) {
      if (oo[a] < lo[a] || oo[a] > hi[a]) return std::numeric_limits<double>::infinity();
      continue;
    }
    double ta = (lo[a] - oo[a]) / dd[a], tb = (hi[a] - oo[a]) / dd[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta), t1 = std::min(t1, tb);
  }
  return t0 <= t1 && t0 > 0 ? t0 : std::numeric_limits<double>::infinity();
}

SynthOptions frame_options() {
  SynthOptions o;
  o.width = 621;
  o.height = 188;
  o.seed = 5;
  return o;
}

// Draws a unit box posed as motgt box (loc, ry, l, h, w) and compares every pixel with the exact ray cast:
// coverage, depth, and the silhouette count. Returns the pixels drawn.
int expect_zbuffer_matches_ray_cast(const Intrinsics& K, int W, int H, const Vec3& loc, double ry, double l,
                                    double h, double w) {
  const VehicleShape box = unit_box();
  PosedShape posed = pose_shape(box, loc, ry, l, h, w);
  posed.u0 = 0, posed.u1 = W - 1, posed.v0 = 0, posed.v1 = H - 1;
  VehicleRaster raster(W, H, 1);
  raster.draw(posed, 0, K, 0.1);
  int inside = 0, disagree = 0, drawn = 0;
  for (int v = 0; v < H; ++v)
    for (int u = 0; u < W; ++u) {
      const double t = ray_box_depth({(u - K.cx) / K.fx, (v - K.cy) / K.fy, 1}, loc, ry, l, h, w);
      const size_t i = static_cast<size_t>(v) * W + u;
      const bool hit = std::isfinite(t), on = raster.vehicle(i) == 0;
      drawn += on;
      if (hit != on) {
        ++disagree;
        continue;
      }
      if (!hit) continue;
      ++inside;
      EXPECT_NEAR(raster.depth(i), t, 1e-4 * t) << "pixel " << u << "," << v;
      EXPECT_GE(raster.depth(i), 0.1f);
      EXPECT_GE(raster.face(i), 0);
    }
  EXPECT_LE(disagree, 2) << "only pixel centres exactly on an outline may differ";
  EXPECT_EQ(raster.coverage(0), drawn) << "coverage counts each silhouette pixel once";
  return inside;
}

}  // namespace

TEST(SynthMesh, ZBufferOfABoxMatchesAnExactRayCast) {
  EXPECT_GT(expect_zbuffer_matches_ray_cast({200, 200, 80, 50}, 160, 100, {0.7, 1.2, 9.0}, 0.4, 4.2, 1.5, 1.8), 1000);
}

TEST(SynthMesh, NearPlaneClipsAVehicleBesideTheCamera) {
  // A box reaching from 2 m behind the camera to 3 m ahead: only its part beyond the near plane is drawn.
  EXPECT_GT(expect_zbuffer_matches_ray_cast({100, 100, 40, 30}, 80, 60, {1.2, 1.6, 0.5}, -M_PI / 2, 5.0, 1.5, 1.8),
            300);
}

TEST(SynthMesh, TracksDrawEveryGeneratedMeshDeformedAndFittedToTheUnitBox) {
  const SceneModel scene(3, "0020");
  std::set<int> used_cars, used_vans;
  for (const TrackInfo& t : scene.tracks(0, world_frame_count("0020") - 1)) {
    const int m = vehicle_mesh_choice(scene.key(), t.track_id, t.class_id, t.model);
    (t.class_id == kVan ? used_vans : used_cars).insert(m);
  }
  const int van = static_cast<int>(VehicleKind::kVan), bus = static_cast<int>(VehicleKind::kBus);
  EXPECT_EQ(used_vans, (std::set<int>{bus, van}));
  EXPECT_EQ(used_cars.size(), 6u);
  EXPECT_FALSE(used_cars.count(van) || used_cars.count(bus));

  const auto a = vehicle_shape(scene.key(), 4, kCar, "Sedan4Door");
  const auto again = vehicle_shape(scene.key() + 0, 4, kCar, "Sedan4Door");
  EXPECT_EQ(a->geometry.vertices, again->geometry.vertices);
  const auto other = vehicle_shape(scene.key(), 16, kCar, "Sedan4Door");
  const Mesh base = vehicle_mesh(static_cast<VehicleKind>(a->mesh));
  ASSERT_EQ(a->geometry.vertices.size(), base.vertices.size());
  ASSERT_EQ(a->parts.size(), base.faces.size());
  double moved = 0;
  for (size_t i = 0; i < base.vertices.size(); ++i)
    for (int c = 0; c < 3; ++c)
      moved = std::max<double>(moved, std::fabs(a->geometry.vertices[i][c] - base.vertices[i][c]));
  EXPECT_GT(moved, 0.005) << "the FFD deforms the mesh";
  EXPECT_LT(moved, 0.15) << "modestly";
  if (other->mesh == a->mesh) {
    EXPECT_NE(other->geometry.vertices, a->geometry.vertices);
  }
  std::array<float, 3> lo{}, hi{};
  bounds(a->geometry, lo, hi);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(lo[c], -0.5f, 1e-5f);
    EXPECT_NEAR(hi[c], 0.5f, 1e-5f);
  }
  EXPECT_EQ(open_edge_count(a->geometry), 0);
  EXPECT_GT(signed_volume(a->geometry), 0.2);
}

TEST(SynthMesh, InstancePixelsLieInsideTheirBoxAndAreSmallerThanItsSilhouette) {
  const SynthOptions o = frame_options();
  int objects = 0, whole = 0;
  for (int index = 0; index < 40; index += 4) {
    const Frame f = synth_frame(o, "0001", "clone", index, 0);
    for (const ObjectGT& g : f.objects) {
      ++objects;
      const Vec3 loc{g.x3d, g.y3d, g.z3d};
      int mask = 0, box = 0;
      for (int v = 0; v < f.height; ++v)
        for (int u = 0; u < f.width; ++u) {
          const size_t i = static_cast<size_t>(v) * f.width + u;
          const Vec3 d{(u - f.K.cx) / f.K.fx, (v - f.K.cy) / f.K.fy, 1};
          box += std::isfinite(ray_box_depth(d, loc, g.rotation_y, g.length3d, g.height3d, g.width3d));
          if (f.instance[i] != g.track_id + 1) continue;
          ++mask;
          // The pixel's 3D point (depth in cm) in box-local coordinates is inside the box.
          const double z = f.depth[i] / 100.0, c = std::cos(g.rotation_y), s = std::sin(g.rotation_y);
          const Vec3 p{d.x * z - loc.x, d.y * z - loc.y, z - loc.z};
          const double lx = c * p.x - s * p.z, ly = p.y, lz = s * p.x + c * p.z;
          const double tol = 0.01 + 0.006 * std::hypot(d.x, d.y, 1.0);
          ASSERT_LE(std::fabs(lx), g.length3d / 2 + tol) << "track " << g.track_id << " pixel " << u << "," << v;
          ASSERT_LE(std::fabs(lz), g.width3d / 2 + tol) << "track " << g.track_id << " pixel " << u << "," << v;
          ASSERT_GE(ly, -g.height3d - tol) << "track " << g.track_id;
          ASSERT_LE(ly, tol) << "track " << g.track_id;
        }
      if (g.occupancy == 1 && g.truncation == 0 && mask > 300) {
        ++whole;
        EXPECT_LT(mask, 0.93 * box) << "track " << g.track_id << ": the silhouette of a mesh, not of its box";
        EXPECT_GT(mask, 0.6 * box) << "track " << g.track_id << ": yet it fills most of the box";
      }
    }
  }
  EXPECT_GT(objects, 15);
  EXPECT_GT(whole, 3);
}

TEST(SynthMesh, TheTreeNamesEachTracksMesh) {
  dt::TempDir dir;
  const SynthOptions o = dt::tiny_options(Layout::kVkitti2, dir.path());
  write_synthetic(o);
  std::istringstream in(dt::read_text(dir.path() + "/" + kMeshTableFile));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "world trackID label model mesh mesh_name");
  const SceneModel scene(o.seed, "0001");
  const auto tracks = scene.tracks(o.first_frame, o.first_frame + o.frames - 1);
  size_t rows = 0;
  for (; std::getline(in, line); ++rows) {
    ASSERT_LT(rows, tracks.size());
    const TrackInfo& t = tracks[rows];
    const int mesh = vehicle_mesh_choice(scene.key(), t.track_id, t.class_id, t.model);
    EXPECT_EQ(line, "0001 " + std::to_string(t.track_id) + " " + class_names()[t.class_id] + " " + t.model + " " +
                        std::to_string(mesh) + " " + vehicle_kind_name(static_cast<VehicleKind>(mesh)));
  }
  EXPECT_EQ(rows, tracks.size());
  EXPECT_GT(rows, 0u);
}

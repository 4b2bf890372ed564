// Implements synth's vehicle shapes and their z-buffer (see synth_mesh.hpp). Only faces turned towards the
// camera are drawn: the meshes are closed and outward, and the camera is never inside one, so they alone make
// the visible surface and the silhouette. Triangles are filled at pixel centres with inclusive edge tests
// (no cracks between neighbours) and perspective-correct depth (1/z interpolated in the image).
#include "data/synth_mesh.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "core/rng.hpp"
#include "data/mesh_ffd.hpp"
#include "data/vkitti.hpp"

namespace sdn::data::synth {
namespace {

constexpr std::uint64_t kShapeStream = 0x5A9E;  // RNG stream of the mesh choice and the FFD draws
// Raw FFD coefficients are uniform in ±this (in unit-box units); the constraints' averaging roughly halves
// it: lattice points move by a few centimetres to ~20 cm on a car, enough to vary the silhouette, not the kind.
constexpr double kFfdAmplitude = 0.08;
constexpr std::size_t kCacheSize = 256;  // shapes per thread (a sequence shows a few dozen tracks)

struct BaseShapes {
  std::vector<Mesh> meshes = vehicle_meshes();
  std::vector<std::vector<VehiclePart>> parts;
  BaseShapes() {
    for (int k = 0; k < kVehicleMeshCount; ++k) parts.push_back(vehicle_mesh_parts(static_cast<VehicleKind>(k)));
  }
};

const BaseShapes& base_shapes() {
  static const BaseShapes shapes;
  return shapes;
}

// Each axis centred and scaled to [-0.5, 0.5] again after the deformation, as the generator leaves them.
void fit_unit_box(Mesh& m) {
  std::array<float, 3> lo{}, hi{};
  bounds(m, lo, hi);
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[a] = (v[a] - 0.5f * (lo[a] + hi[a])) / (hi[a] - lo[a]);
}

Vec3 sub(const Vec3& a, const Vec3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

}  // namespace

int vehicle_mesh_choice(std::uint64_t scene_key, int track_id, int class_id, const std::string& model) {
  using K = VehicleKind;
  static const std::map<std::string, std::vector<K>> by_model = {
      {"Sedan4Door", {K::kSedan, K::kWagon}}, {"Hatchback", {K::kHatchback}}, {"SUV", {K::kSuv, K::kPickup}},
      {"Sedan2Door", {K::kCoupe}},            {"Van", {K::kVan}},             {"MiniVan", {K::kBus}}};
  static const std::vector<K> cars = {K::kSedan, K::kHatchback, K::kSuv, K::kWagon, K::kCoupe, K::kPickup};
  static const std::vector<K> vans = {K::kVan, K::kBus};
  const auto it = by_model.find(model);
  const std::vector<K>& fits = it != by_model.end() ? it->second : class_id == kVan ? vans : cars;
  KeyedRng rng({scene_key, kShapeStream, static_cast<std::uint64_t>(track_id)});
  return static_cast<int>(fits[rng.below(fits.size())]);
}

std::shared_ptr<const VehicleShape> vehicle_shape(std::uint64_t scene_key, int track_id, int class_id,
                                                  const std::string& model) {
  thread_local std::unordered_map<std::uint64_t, std::shared_ptr<const VehicleShape>> cache;
  const std::uint64_t key = hash_key({scene_key, static_cast<std::uint64_t>(track_id),
                                      static_cast<std::uint64_t>(class_id), text_key(model)});
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto shape = std::make_shared<VehicleShape>();
  shape->mesh = vehicle_mesh_choice(scene_key, track_id, class_id, model);
  KeyedRng rng({scene_key, kShapeStream, static_cast<std::uint64_t>(track_id), 1});
  FfdCoefficients raw{};
  for (float& c : raw) c = static_cast<float>(rng.uniform(-kFfdAmplitude, kFfdAmplitude));
  const BaseShapes& base = base_shapes();
  shape->geometry = ffd_deform(base.meshes[static_cast<size_t>(shape->mesh)], raw);
  fit_unit_box(shape->geometry);
  shape->parts = base.parts[static_cast<size_t>(shape->mesh)];
  if (cache.size() >= kCacheSize) cache.clear();
  cache.emplace(key, shape);
  return shape;
}

PosedShape pose_shape(const VehicleShape& shape, const Vec3& bottom, double ry, double length, double height,
                      double width) {
  PosedShape p;
  p.shape = &shape;
  const double c = std::cos(ry), s = std::sin(ry);
  p.vertices.reserve(shape.geometry.vertices.size());
  for (const auto& v : shape.geometry.vertices) {
    const double lx = v[0] * length, ly = -(v[1] + 0.5) * height, lz = -v[2] * width;
    p.vertices.push_back({bottom.x + c * lx + s * lz, bottom.y + ly, bottom.z - s * lx + c * lz});
  }
  return p;
}

Vec3 face_normal(const PosedShape& posed, int face) {
  const auto& f = posed.shape->geometry.faces[static_cast<size_t>(face)];
  const auto& v = posed.vertices;
  const Vec3& a = v[static_cast<size_t>(f[0])];
  const Vec3 n = cross(sub(v[static_cast<size_t>(f[1])], a), sub(v[static_cast<size_t>(f[2])], a));
  const double len = std::sqrt(dot(n, n));
  return len > 0 ? Vec3{n.x / len, n.y / len, n.z / len} : Vec3{0, 0, -1};
}

VehicleRaster::VehicleRaster(int width, int height, int vehicles)
    : width_(width),
      depth_(static_cast<size_t>(width) * height, std::numeric_limits<float>::infinity()),
      vehicle_(depth_.size(), -1), face_(depth_.size(), -1), stamp_(depth_.size(), -1),
      coverage_(static_cast<size_t>(vehicles), 0) {}

void VehicleRaster::draw(const PosedShape& posed, int index, const Intrinsics& K, double near) {
  if (posed.u0 > posed.u1 || posed.v0 > posed.v1) return;
  const auto& faces = posed.shape->geometry.faces;
  for (size_t fi = 0; fi < faces.size(); ++fi) {
    const auto& f = faces[fi];
    const Vec3 p[3] = {posed.vertices[static_cast<size_t>(f[0])], posed.vertices[static_cast<size_t>(f[1])],
                       posed.vertices[static_cast<size_t>(f[2])]};
    if (dot(cross(sub(p[1], p[0]), sub(p[2], p[0])), p[0]) >= 0) continue;  // turned away (or edge-on)
    // Clip against z = near (Sutherland-Hodgman on one plane: up to 4 corners), then fan into triangles.
    Vec3 poly[4];
    int n = 0;
    for (int k = 0; k < 3; ++k) {
      const Vec3 &a = p[k], &b = p[(k + 1) % 3];
      if (a.z >= near) poly[n++] = a;
      if ((a.z >= near) != (b.z >= near)) {
        const double t = (near - a.z) / (b.z - a.z);
        poly[n++] = {a.x + t * (b.x - a.x), a.y + t * (b.y - a.y), near};
      }
    }
    for (int k = 1; k + 1 < n; ++k) {
      const Vec3* tri[3] = {&poly[0], &poly[k], &poly[k + 1]};
      double x[3], y[3], z[3];
      for (int j = 0; j < 3; ++j) {
        z[j] = tri[j]->z;
        x[j] = K.fx * tri[j]->x / z[j] + K.cx;
        y[j] = K.fy * tri[j]->y / z[j] + K.cy;
      }
      fill(x, y, z, posed, index, static_cast<int>(fi));
    }
  }
}

void VehicleRaster::fill(const double (&x)[3], const double (&y)[3], const double (&z)[3], const PosedShape& posed,
                         int index, int face) {
  const int ua = std::max(posed.u0, static_cast<int>(std::ceil(std::min({x[0], x[1], x[2]}))));
  const int ub = std::min(posed.u1, static_cast<int>(std::floor(std::max({x[0], x[1], x[2]}))));
  const int va = std::max(posed.v0, static_cast<int>(std::ceil(std::min({y[0], y[1], y[2]}))));
  const int vb = std::min(posed.v1, static_cast<int>(std::floor(std::max({y[0], y[1], y[2]}))));
  if (ua > ub || va > vb) return;
  const double area = (x[1] - x[0]) * (y[2] - y[0]) - (y[1] - y[0]) * (x[2] - x[0]);
  if (!(std::fabs(area) > 1e-12)) return;
  const double inv = 1.0 / area;
  constexpr double kSlack = -1e-9;  // barycentric tolerance: a pixel on a shared edge goes to both faces
  for (int v = va; v <= vb; ++v)
    for (int u = ua; u <= ub; ++u) {
      const double w0 = ((x[2] - x[1]) * (v - y[1]) - (y[2] - y[1]) * (u - x[1])) * inv;
      const double w1 = ((x[0] - x[2]) * (v - y[2]) - (y[0] - y[2]) * (u - x[2])) * inv;
      const double w2 = 1.0 - w0 - w1;
      if (w0 < kSlack || w1 < kSlack || w2 < kSlack) continue;
      const size_t i = static_cast<size_t>(v) * width_ + u;
      if (stamp_[i] != index) stamp_[i] = static_cast<std::int16_t>(index), ++coverage_[static_cast<size_t>(index)];
      const float d = static_cast<float>(1.0 / (w0 / z[0] + w1 / z[1] + w2 / z[2]));
      if (d < depth_[i]) depth_[i] = d, vehicle_[i] = static_cast<std::int16_t>(index), face_[i] = face;
    }
}

}  // namespace sdn::data::synth

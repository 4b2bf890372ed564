// Procedural vehicle meshes: a body lofted through cross-sections along the length (six-sided sections:
// vertical lower sides up to the belt line, then a greenhouse leaning in towards the roof), closed by end caps,
// plus four wheel prisms; each component is closed and outward-oriented. Profiles are in metres, rear = 0.
#include "data/mesh_vehicles.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace sdn::data {
namespace {

struct Spec {
  const char* name;
  float length, height, width;
  float clearance, belt;           // body bottom and belt-line heights
  float wheel_radius, tire_width;
  float rear_axle, front_axle;     // fraction of the length from the rear
  float tumblehome;                // how much narrower the roof is than the body
  std::vector<std::pair<float, float>> roof;  // (fraction of length from the rear, roof height), increasing
};

const Spec& spec(VehicleKind kind) {
  static const std::vector<Spec> specs = {
      {"sedan", 4.7f, 1.45f, 1.8f, 0.16f, 0.85f, 0.32f, 0.21f, 0.2f, 0.8f, 0.22f,
       {{0, 0.95f}, {0.05f, 1.02f}, {0.24f, 1.04f}, {0.36f, 1.4f}, {0.6f, 1.45f}, {0.74f, 1.0f}, {0.95f, 0.86f},
        {1, 0.68f}}},
      {"hatchback", 4.0f, 1.48f, 1.75f, 0.15f, 0.85f, 0.31f, 0.2f, 0.16f, 0.82f, 0.2f,
       {{0, 0.9f}, {0.03f, 1.3f}, {0.12f, 1.45f}, {0.58f, 1.48f}, {0.72f, 1.0f}, {0.95f, 0.88f}, {1, 0.7f}}},
      {"suv", 4.7f, 1.75f, 1.9f, 0.22f, 1.05f, 0.37f, 0.24f, 0.19f, 0.8f, 0.16f,
       {{0, 1.2f}, {0.03f, 1.68f}, {0.68f, 1.75f}, {0.78f, 1.2f}, {0.95f, 1.08f}, {1, 0.85f}}},
      {"wagon", 4.8f, 1.5f, 1.8f, 0.15f, 0.86f, 0.32f, 0.21f, 0.2f, 0.8f, 0.2f,
       {{0, 0.95f}, {0.03f, 1.42f}, {0.62f, 1.5f}, {0.74f, 1.0f}, {0.95f, 0.86f}, {1, 0.68f}}},
      {"coupe", 4.5f, 1.3f, 1.85f, 0.12f, 0.75f, 0.33f, 0.24f, 0.2f, 0.8f, 0.25f,
       {{0, 0.85f}, {0.06f, 0.92f}, {0.2f, 0.95f}, {0.4f, 1.28f}, {0.55f, 1.3f}, {0.7f, 0.9f}, {0.95f, 0.75f},
        {1, 0.6f}}},
      {"bus", 12.0f, 3.2f, 2.55f, 0.32f, 1.25f, 0.5f, 0.3f, 0.25f, 0.8f, 0.04f,
       {{0, 3.0f}, {0.02f, 3.2f}, {0.97f, 3.2f}, {1, 2.9f}}},
      {"pickup", 5.3f, 1.8f, 1.9f, 0.25f, 1.05f, 0.38f, 0.25f, 0.18f, 0.8f, 0.12f,
       {{0, 1.05f}, {0.02f, 1.1f}, {0.42f, 1.1f}, {0.44f, 1.75f}, {0.65f, 1.8f}, {0.72f, 1.2f}, {0.95f, 1.12f},
        {1, 0.9f}}},
      {"van", 5.0f, 2.0f, 1.95f, 0.18f, 1.0f, 0.34f, 0.22f, 0.17f, 0.8f, 0.06f,
       {{0, 1.9f}, {0.03f, 2.0f}, {0.7f, 2.0f}, {0.85f, 1.35f}, {0.95f, 1.05f}, {1, 0.8f}}},
  };
  return specs.at(static_cast<size_t>(kind));
}

float interpolate(const std::vector<std::pair<float, float>>& pts, float t) {
  if (t <= pts.front().first) return pts.front().second;
  for (size_t i = 1; i < pts.size(); ++i)
    if (t <= pts[i].first) {
      const float a = (t - pts[i - 1].first) / (pts[i].first - pts[i - 1].first);
      return pts[i - 1].second + a * (pts[i].second - pts[i - 1].second);
    }
  return pts.back().second;
}

// Appends `part` to `mesh`, first flipping its faces if they face inwards.
void append_outward(Mesh& mesh, Mesh part) {
  if (signed_volume(part) < 0)
    for (auto& f : part.faces) std::swap(f[1], f[2]);
  const auto base = static_cast<std::int32_t>(mesh.vertices.size());
  mesh.vertices.insert(mesh.vertices.end(), part.vertices.begin(), part.vertices.end());
  for (auto f : part.faces) mesh.faces.push_back({f[0] + base, f[1] + base, f[2] + base});
}

// A closed loft through rings of equal size (consecutive rings joined by quads, both ends capped by fans).
Mesh loft(const std::vector<std::vector<std::array<float, 3>>>& rings) {
  Mesh m;
  const auto n = static_cast<std::int32_t>(rings.front().size());
  for (const auto& r : rings) m.vertices.insert(m.vertices.end(), r.begin(), r.end());
  const auto last = static_cast<std::int32_t>(rings.size()) - 1;
  for (std::int32_t s = 0; s < last; ++s)
    for (std::int32_t e = 0; e < n; ++e) {
      const std::int32_t a = s * n + e, b = s * n + (e + 1) % n, c = (s + 1) * n + (e + 1) % n, d = (s + 1) * n + e;
      m.faces.push_back({a, b, c});
      m.faces.push_back({a, c, d});
    }
  // Caps traverse the shared edges opposite to the side quads, so the whole loft is consistently oriented.
  for (std::int32_t e = 1; e + 1 < n; ++e) {
    m.faces.push_back({0, e + 1, e});
    m.faces.push_back({last * n, last * n + e, last * n + e + 1});
  }
  return m;
}

// Positions of the body's cross-sections (fractions of the length): evenly spaced plus every roof point.
std::vector<float> station_positions(const Spec& sp, int stations) {
  std::vector<float> ts;
  for (int s = 0; s < stations; ++s) ts.push_back(static_cast<float>(s) / static_cast<float>(stations - 1));
  for (const auto& p : sp.roof) ts.push_back(p.first);
  std::sort(ts.begin(), ts.end());
  ts.erase(std::unique(ts.begin(), ts.end(), [](float a, float b) { return std::fabs(a - b) < 1e-4f; }), ts.end());
  return ts;
}

float belt_at(const Spec& sp, float roof) { return std::min(sp.belt, roof - 0.04f); }

// Corners of a body cross-section in ring order (Neg/Pos: the side z < 0 or z > 0); vehicle_mesh_parts relies on it.
enum Corner { kBottomNeg, kBottomPos, kBeltPos, kRoofPos, kRoofNeg, kBeltNeg, kCorners };

Mesh body(const Spec& sp, int stations) {
  std::vector<std::vector<std::array<float, 3>>> rings;
  for (float t : station_positions(sp, stations)) {
    const float end = std::min(t, 1 - t);  // distance to the nearer end, in lengths
    const float roof = interpolate(sp.roof, t);
    const float belt = belt_at(sp, roof);
    const float lift = 0.35f * (belt - sp.clearance) * std::max(0.0f, 1 - end / 0.06f);  // bumpers curve up
    const float bottom = sp.clearance + lift;
    const float round = std::pow(std::max(0.0f, 1 - end / 0.08f), 2.0f);  // corners rounded in plan view
    const float w = 0.5f * sp.width * (1 - 0.08f * round);
    const float lean = std::clamp((roof - belt) / 0.3f, 0.0f, 1.0f);
    const float wt = w * (1 - sp.tumblehome * lean);
    const float x = t * sp.length;
    rings.push_back({{x, bottom, -w}, {x, bottom, w}, {x, belt, w}, {x, roof, wt}, {x, roof, -wt}, {x, belt, -w}});
  }
  return loft(rings);
}

Mesh wheel(const Spec& sp, float axle, float side, int segments) {
  const float z_out = side * (0.5f * sp.width - 0.02f), z_in = z_out - side * sp.tire_width;
  std::vector<std::vector<std::array<float, 3>>> rings(2);
  for (int k = 0; k < segments; ++k) {
    const double a = 2 * M_PI * k / segments;
    const float x = axle * sp.length + sp.wheel_radius * static_cast<float>(std::cos(a));
    const float y = sp.wheel_radius * (1 + static_cast<float>(std::sin(a)));
    rings[0].push_back({x, y, z_in});
    rings[1].push_back({x, y, z_out});
  }
  return loft(rings);
}

}  // namespace

const char* vehicle_kind_name(VehicleKind kind) { return spec(kind).name; }

std::array<float, 3> vehicle_kind_size(VehicleKind kind) {
  const Spec& s = spec(kind);
  return {s.length, s.height, s.width};
}

Mesh vehicle_mesh(VehicleKind kind, const VehicleMeshOptions& options) {
  if (options.stations < 2 || options.wheel_segments < 3)
    throw UsageError("vehicle meshes need at least 2 stations and 3 wheel segments (got " +
                     std::to_string(options.stations) + " and " + std::to_string(options.wheel_segments) + ")");
  const Spec& sp = spec(kind);
  Mesh m;
  m.name = sp.name;
  append_outward(m, body(sp, options.stations));
  for (float axle : {sp.rear_axle, sp.front_axle})
    for (float side : {-1.0f, 1.0f}) append_outward(m, wheel(sp, axle, side, options.wheel_segments));
  // Into the shared object frame: each axis centred and scaled to [-0.5, 0.5] (x already runs rear to front).
  std::array<float, 3> lo{}, hi{};
  bounds(m, lo, hi);
  for (auto& v : m.vertices)
    for (int a = 0; a < 3; ++a) v[a] = (v[a] - 0.5f * (lo[a] + hi[a])) / (hi[a] - lo[a]);
  return m;
}

std::vector<VehiclePart> vehicle_mesh_parts(VehicleKind kind, const VehicleMeshOptions& options) {
  constexpr float kTrim = 0.12f;   // metres: a greenhouse lower than this is trim, not a window
  constexpr float kSteep = 0.35f;  // rise over run of the roof line beyond which it is a windscreen
  const Spec& sp = spec(kind);
  const Mesh whole = vehicle_mesh(kind, options);
  std::vector<VehiclePart> parts;
  // The body's faces come first, in loft order: per pair of consecutive stations, two per ring edge (edge e
  // joins corners e and e + 1), then the two end caps; the wheels follow.
  const std::vector<float> ts = station_positions(sp, options.stations);
  for (size_t s = 0; s + 1 < ts.size(); ++s) {
    const float r0 = interpolate(sp.roof, ts[s]), r1 = interpolate(sp.roof, ts[s + 1]);
    const bool tall = std::min(r0 - belt_at(sp, r0), r1 - belt_at(sp, r1)) > kTrim;
    const bool steep = std::fabs(r1 - r0) > kSteep * (ts[s + 1] - ts[s]) * sp.length;
    for (int e = 0; e < kCorners; ++e) {
      const bool glass = tall && (e == kBeltPos || e == kRoofNeg || (e == kRoofPos && steep));
      parts.insert(parts.end(), 2, glass ? VehiclePart::kGlass : VehiclePart::kBody);
    }
  }
  parts.insert(parts.end(), 2 * (kCorners - 2), VehiclePart::kBody);
  SDN_CHECK(parts.size() <= whole.faces.size(), "vehicle mesh parts out of step with the loft");
  parts.resize(whole.faces.size(), VehiclePart::kWheel);
  return parts;
}

std::vector<Mesh> vehicle_meshes(const VehicleMeshOptions& options) {
  std::vector<Mesh> out;
  for (int k = 0; k < kVehicleMeshCount; ++k) out.push_back(vehicle_mesh(static_cast<VehicleKind>(k), options));
  return out;
}

std::vector<std::string> write_vehicle_meshes(const std::string& dir, const VehicleMeshOptions& options) {
  fs::ensure_writable_dir(dir);
  std::vector<std::string> paths;
  const auto meshes = vehicle_meshes(options);
  for (size_t k = 0; k < meshes.size(); ++k) {
    const std::string path = dir + "/" + std::to_string(k) + "-" + meshes[k].name + ".obj";
    write_obj(to_shapenet_frame(meshes[k]), path);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace sdn::data

// Implements the synthetic world (see synth_scene.hpp). Traffic runs on 12 "slots" on fixed lanes; a slot's
// position relative to the ego camera advances by a fixed speed and wraps around a window that starts behind
// the camera, so a vehicle disappears behind the camera (or far ahead) and the slot comes back as a new track:
// track id = slot + 12 * cycle, which keeps ids < 255 over the longest world (837 frames).
#include "data/synth_scene.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/vkitti.hpp"

namespace sdn::data::synth {
namespace {

// Stream tags of the keyed RNG, so that independent decisions never share random numbers.
enum Tag : std::uint64_t { kTagWorld = 1, kTagTrack, kTagProp, kTagFacade, kTagRail, kTagSlot };

constexpr int kSlots = 12;
constexpr double kWindowStart = -20.0;  // metres behind the camera where a wrapped slot re-enters
constexpr double kWindowSpan = 150.0;
constexpr double kPi = 3.14159265358979323846;
constexpr double kFacadeSegment = 12.0;
constexpr double kRailSegment = 24.0;
constexpr double kPropCell = 20.0;

enum class LaneKind { kLead, kSame, kOncoming, kParkedRight, kParkedLeft };

struct SlotSpec {
  LaneKind kind;
  double x;      // lane centre
  int index;     // position of the slot within its lane
  int in_lane;   // slots in this lane
};

SlotSpec slot_spec(int s) {
  if (s == 0) return {LaneKind::kLead, 0.0, 0, 1};
  if (s <= 2) return {LaneKind::kSame, 3.5, s - 1, 2};
  if (s <= 5) return {LaneKind::kOncoming, -3.5, s - 3, 3};
  if (s <= 8) return {LaneKind::kParkedRight, 7.1, s - 6, 3};
  return {LaneKind::kParkedLeft, -7.1, s - 9, 3};
}

double round_to(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

struct ColorName {
  const char* name;
  Rgb paint;
};
constexpr ColorName kPaints[] = {{"Black", {22, 22, 24}},     {"White", {225, 225, 220}}, {"Red", {170, 28, 25}},
                                 {"Blue", {32, 62, 150}},     {"Silver", {170, 172, 176}}, {"Grey", {98, 100, 104}},
                                 {"Green", {34, 92, 52}},     {"Yellow", {212, 180, 34}}, {"Brown", {110, 72, 42}}};
constexpr const char* kCarModels[] = {"Sedan4Door", "Hatchback", "SUV", "Sedan2Door"};
constexpr const char* kVanModels[] = {"Van", "MiniVan"};

// Static facts and shape of the vehicle of (slot, cycle); `present` false when the slot is empty this cycle.
struct TrackDraw {
  bool present = false;
  TrackInfo info;
  Rgb paint{};
  double width = 0, height = 0, length = 0, dx = 0, dry = 0;
};

TrackDraw draw_track(std::uint64_t key, int slot, int cycle, const Traffic& traffic) {
  KeyedRng rng({key, kTagTrack, static_cast<std::uint64_t>(slot), static_cast<std::uint64_t>(cycle)});
  const SlotSpec spec = slot_spec(slot);
  TrackDraw d;
  // The draw happens either way, so a presence setting leaves every other draw of the track as it was.
  const double presence = traffic.presence >= 0 ? traffic.presence : spec.kind == LaneKind::kLead ? 0.85 : 0.7;
  d.present = rng.uniform() < presence;
  const bool van = rng.uniform() < 0.25;
  d.info.track_id = slot + kSlots * cycle;
  d.info.class_id = van ? kVan : kCar;
  d.info.model = van ? kVanModels[rng.below(2)] : kCarModels[rng.below(4)];
  const ColorName& c = kPaints[rng.below(sizeof kPaints / sizeof kPaints[0])];
  d.info.color_name = c.name;
  d.paint = c.paint;
  d.width = round_to(van ? rng.uniform(1.9, 2.1) : rng.uniform(1.6, 1.85), 3);
  d.height = round_to(van ? rng.uniform(1.9, 2.3) : rng.uniform(1.4, 1.6), 3);
  d.length = round_to(van ? rng.uniform(4.6, 5.4) : rng.uniform(3.9, 4.7), 3);
  if (traffic.vehicle_scale != 1.0) {
    d.width = round_to(d.width * traffic.vehicle_scale, 3);
    d.height = round_to(d.height * traffic.vehicle_scale, 3);
    d.length = round_to(d.length * traffic.vehicle_scale, 3);
  }
  const bool parked = spec.kind == LaneKind::kParkedLeft || spec.kind == LaneKind::kParkedRight;
  d.dx = rng.uniform(-1, 1) * (parked ? 0.25 : 0.15);
  d.dry = rng.uniform(-1, 1) * (parked ? 0.08 : 0.02);
  // Parked cars on the left face either way; everything else follows its lane's direction.
  if (spec.kind == LaneKind::kParkedLeft && rng.uniform() < 0.5) d.dry += kPi;
  return d;
}

double wrap_pi(double a) {
  while (a > kPi) a -= 2 * kPi;
  while (a < -kPi) a += 2 * kPi;
  return a;
}

// Relative position of a slot ahead of the ego camera and its wrap cycle at `frame`.
void slot_position(std::uint64_t key, double ego, int slot, int frame, double& rel, int& cycle) {
  const SlotSpec spec = slot_spec(slot);
  KeyedRng rng({key, kTagSlot, static_cast<std::uint64_t>(slot)});
  if (spec.kind == LaneKind::kLead) {
    rel = 16.0 + 5.0 * std::sin(0.02 * frame + rng.uniform(0, 2 * kPi));
    cycle = 0;
    return;
  }
  double dv = -ego;  // parked: still in the road frame
  if (spec.kind == LaneKind::kSame) dv = rng.uniform(0.15, 0.35);
  if (spec.kind == LaneKind::kOncoming) dv = -(ego + rng.uniform(0.6, 1.0));
  const double spacing = kWindowSpan / spec.in_lane;
  const double start = spacing * (spec.index + 0.5 + rng.uniform(-0.2, 0.2));  // offset into the window at frame 0
  const double u = start + dv * frame;
  const double c = std::floor(u / kWindowSpan);
  rel = kWindowStart + (u - c * kWindowSpan);
  cycle = static_cast<int>(std::fabs(c));
}

}  // namespace

std::uint64_t text_key(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

double variation_yaw(const std::string& variation) {
  const double deg = kPi / 180.0;
  if (variation == "15-deg-left") return -15 * deg;
  if (variation == "15-deg-right") return 15 * deg;
  if (variation == "30-deg-left") return -30 * deg;
  if (variation == "30-deg-right") return 30 * deg;
  return 0.0;
}

SceneModel::SceneModel(std::uint64_t seed, const std::string& world, const Traffic& traffic)
    : key_(hash_key({seed, text_key(world)})), traffic_(traffic) {
  KeyedRng rng({key_, kTagWorld});
  ego_speed_ = rng.uniform(0.6, 1.0);
  facade_x_ = {-rng.uniform(12.0, 15.0), rng.uniform(12.0, 15.0)};
}

std::vector<Vehicle> SceneModel::vehicles(int frame) const {
  std::vector<Vehicle> out;
  for (int s = 0; s < kSlots; ++s) {
    double rel = 0;
    int cycle = 0;
    slot_position(key_, ego_speed_, s, frame, rel, cycle);
    const TrackDraw d = draw_track(key_, s, cycle, traffic_);
    if (!d.present) continue;
    SDN_CHECK(d.info.track_id < 255, "synthetic track id " + std::to_string(d.info.track_id) + " >= 255");
    const SlotSpec spec = slot_spec(s);
    Vehicle v;
    v.track_id = d.info.track_id;
    v.class_id = d.info.class_id;
    v.model = d.info.model;
    v.color_name = d.info.color_name;
    v.paint = d.paint;
    v.moving = spec.kind == LaneKind::kLead || spec.kind == LaneKind::kSame || spec.kind == LaneKind::kOncoming;
    double heading = spec.kind == LaneKind::kOncoming ? kPi / 2 : -kPi / 2;  // -pi/2: driving along +z
    if (spec.kind == LaneKind::kLead) heading += 0.03 * std::sin(0.05 * frame);
    v.box.bottom = {spec.x + d.dx, 0.0, ego_speed_ * frame + rel};
    v.box.width = d.width;
    v.box.height = d.height;
    v.box.length = d.length;
    v.box.ry = wrap_pi(heading + d.dry);
    out.push_back(v);
  }
  std::sort(out.begin(), out.end(), [](const Vehicle& a, const Vehicle& b) { return a.track_id < b.track_id; });
  return out;
}

std::vector<TrackInfo> SceneModel::tracks(int first, int last) const {
  std::vector<TrackInfo> out;
  for (int s = 0; s < kSlots; ++s) {
    double rel = 0;
    int c0 = 0, c1 = 0;
    slot_position(key_, ego_speed_, s, first, rel, c0);
    slot_position(key_, ego_speed_, s, last, rel, c1);
    // Cycles change monotonically with the frame, so [c0, c1] covers every cycle in between.
    for (int c = std::min(c0, c1); c <= std::max(c0, c1); ++c) {
      const TrackDraw d = draw_track(key_, s, c, traffic_);
      if (d.present) out.push_back(d.info);
    }
  }
  std::sort(out.begin(), out.end(), [](const TrackInfo& a, const TrackInfo& b) { return a.track_id < b.track_id; });
  return out;
}

std::vector<Prop> SceneModel::props(double z_from, double z_to) const {
  std::vector<Prop> out;
  const long k0 = static_cast<long>(std::floor(z_from / kPropCell)), k1 = static_cast<long>(std::floor(z_to / kPropCell));
  for (long k = k0; k <= k1; ++k) {
    for (int side = -1; side <= 1; side += 2) {
      KeyedRng rng({key_, kTagProp, static_cast<std::uint64_t>(side + 1), static_cast<std::uint64_t>(k)});
      const double base = k * kPropCell;
      if (rng.uniform() < 0.35) {
        const double z = base + rng.uniform(2.0, 18.0), h = rng.uniform(5.5, 7.0);
        Prop pole{kPole, Box{{side * 9.7, 0.0, z}, 0.22, h, 0.22, 0.0}, {118, 118, 124}};
        if (z >= z_from && z <= z_to) out.push_back(pole);
        if (rng.uniform() < 0.5) {
          const bool yellow = rng.uniform() < 0.5;
          Prop sign{kTrafficSign, Box{{side * 9.7, -(h - 1.6), z - 0.2}, 0.06, 0.75, 0.75, 0.0},
                    yellow ? Rgb{236, 196, 24} : Rgb{30, 72, 170}};
          if (z >= z_from && z <= z_to) out.push_back(sign);
        }
      }
      if (rng.uniform() < 0.15) {
        const double z = base + rng.uniform(0.0, kPropCell);
        Prop misc{kMisc, Box{{side * rng.uniform(10.5, 11.5), 0.0, z}, rng.uniform(0.5, 1.0), rng.uniform(0.6, 1.2),
                         rng.uniform(0.5, 1.2), rng.uniform(-kPi, kPi)},
                  {122, 92, 60}};
        if (z >= z_from && z <= z_to) out.push_back(misc);
      }
    }
  }
  return out;
}

Facade SceneModel::facade(int side, double z) const {
  const long k = static_cast<long>(std::floor(z / kFacadeSegment));
  KeyedRng rng({key_, kTagFacade, static_cast<std::uint64_t>(side + 1), static_cast<std::uint64_t>(k)});
  const double u = rng.uniform();
  Facade f;
  if (u < 0.5) {
    const auto g = static_cast<std::uint8_t>(rng.uniform(105, 175));
    f = {kBuilding, rng.uniform(6.0, 18.0), Rgb{g, static_cast<std::uint8_t>(g - 8), static_cast<std::uint8_t>(g - 20)}};
  } else if (u < 0.7) {
    const double phase = rng.uniform(0, 2 * kPi);
    f = {kTree, rng.uniform(5.0, 9.0) + 0.8 * std::sin(1.7 * z + phase), Rgb{34, 96, 30}};
  } else if (u < 0.9) {
    f = {kVegetation, rng.uniform(1.2, 2.8), Rgb{70, 140, 40}};
  }
  return f;
}

Facade SceneModel::rail(int side, double z) const {
  const long k = static_cast<long>(std::floor(z / kRailSegment));
  KeyedRng rng({key_, kTagRail, static_cast<std::uint64_t>(side + 1), static_cast<std::uint64_t>(k)});
  if (rng.uniform() < (side < 0 ? 0.6 : 0.3)) return {kGuardRail, 0.8, Rgb{172, 172, 178}};
  return {};
}

CameraPose SceneModel::camera(const std::string& variation, int frame, int camera) const {
  CameraPose p;
  p.yaw = variation_yaw(variation);
  p.centre = {0.0, -kCameraHeight, ego_speed_ * frame};
  if (camera == 1) {  // the right camera sits at +baseline along the camera's own x axis
    p.centre.x += kStereoBaseline * std::cos(p.yaw);
    p.centre.z -= kStereoBaseline * std::sin(p.yaw);
  }
  return p;
}

}  // namespace sdn::data::synth

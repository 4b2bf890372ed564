// The synthetic world behind `sdn synth`: a straight road in a "road frame" (x right, y down with the ground at
// y = 0, z along the road) lined with facades (buildings, trees, hedges), guard rails, poles, signs and misc
// boxes, and traffic (cars and vans as 3D boxes) on fixed lanes. Geometry is a pure function of (seed, world)
// and the frame index, so every variation and both cameras see the same tracks; a variation only moves the
// camera (±15°/±30° yaw) or changes the look (synth_look.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdn::data::synth {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

using Rgb = std::array<std::uint8_t, 3>;

// An oriented box: `bottom` is the centre of its bottom face; `ry` the yaw about y (motgt convention: 0 = the
// length axis points along +x, -pi/2 = along +z). Local extents: x in ±length/2, y in [-height, 0], z in ±width/2.
struct Box {
  Vec3 bottom;
  double width = 0, height = 0, length = 0;
  double ry = 0;
};

// A car or van of one track in one frame.
struct Vehicle {
  int track_id = 0;
  int class_id = 0;  // Car 2, Van 12
  Box box;           // road frame
  bool moving = false;
  const char* model = "";
  const char* color_name = "";
  Rgb paint{};
};

// Static scenery: pole, sign, misc box (no instance id).
struct Prop {
  int class_id = 0;
  Box box;
  Rgb paint{};
};

// A vertical facade strip (a plane x = const): what it is at road position z, and how high it reaches.
struct Facade {
  int class_id = -1;  // -1 = gap (nothing there)
  double top = 0;     // metres above the ground
  Rgb paint{};
};

// Camera centre in the road frame and its yaw (camera-to-road rotation R_y(yaw)).
struct CameraPose {
  Vec3 centre;
  double yaw = 0;
};

// Static facts of one track (info.txt / encoding lines).
struct TrackInfo {
  int track_id = 0;
  int class_id = 0;
  const char* model = "";
  const char* color_name = "";
};

// How much traffic the scene holds (`sdn synth --vehicle-scale/--vehicle-presence`): the defaults are the
// standard scene; a detector demo on tiny frames asks for bigger vehicles in every slot.
struct Traffic {
  double vehicle_scale = 1.0;  // width, height and length of every car and van times this (1 to 2)
  double presence = -1.0;      // probability that a slot holds a vehicle; < 0: the standard 0.85 lead / 0.7 others
};

constexpr double kCameraHeight = 1.65;  // metres above the road (KITTI)
constexpr double kFarClip = 650.0;      // hits farther than this are sky (depth 65535 = 655.35 m)
constexpr double kRoadHalfWidth = 9.0;  // |x| <= this is Road, beyond is Terrain

class SceneModel {
 public:
  SceneModel(std::uint64_t seed, const std::string& world, const Traffic& traffic = {});

  // Every vehicle present at `frame` (sorted by track id). Track ids stay < 255 (2.0.3 stores id + 1 in 8 bits).
  std::vector<Vehicle> vehicles(int frame) const;
  // Track ids present anywhere in frames [first, last], with their static facts, sorted by id.
  std::vector<TrackInfo> tracks(int first, int last) const;
  // Props whose road-frame z lies in [z_from, z_to].
  std::vector<Prop> props(double z_from, double z_to) const;
  // side: -1 left, +1 right. The facade plane is x = facade_x(side); rails stand at x = rail_x(side).
  double facade_x(int side) const { return side < 0 ? facade_x_[0] : facade_x_[1]; }
  Facade facade(int side, double z) const;
  double rail_x(int side) const { return side * 9.3; }
  Facade rail(int side, double z) const;
  // Pose of `camera` (0 left, 1 right at the stereo baseline) at `frame` for a variation (yaw from its name).
  CameraPose camera(const std::string& variation, int frame, int camera) const;

  std::uint64_t key() const { return key_; }

 private:
  std::uint64_t key_;           // hash of (seed, world)
  Traffic traffic_;
  double ego_speed_;            // metres per frame
  std::array<double, 2> facade_x_;
};

// Stable 64-bit hash of a name (FNV-1a), for RNG keys: std::hash is not specified to be stable.
std::uint64_t text_key(const std::string& s);

// Yaw of a variation's camera: "15-deg-left" -> -15 degrees (looking towards -x), others 0.
double variation_yaw(const std::string& variation);

}  // namespace sdn::data::synth

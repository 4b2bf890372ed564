// Implements the vKITTI facts (see vkitti.hpp): class list and colours, worlds, variations, frame counts,
// the 3D-SDN train/test split (datasets/vkitti_utils.py of ysymyth/3D-SDN) and the scaled intrinsics.
#include "data/vkitti.hpp"

#include <cmath>
#include <map>

namespace sdn::data {
namespace {

struct WorldFacts {
  const char* name;
  int frames;       // frames per variation (indices 0 .. frames-1)
  int train_first;  // inclusive train range of the 3D-SDN split
  int train_last;
};

// 3D-SDN `worldSizes` (last index + 1) and the train ranges of its split.
constexpr WorldFacts kWorlds[] = {
    {"0001", 447, 0, 355}, {"0002", 233, 0, 184}, {"0006", 270, 69, 269},
    {"0018", 339, 0, 269}, {"0020", 837, 167, 836},
};

const WorldFacts* find_world(const std::string& world) {
  for (const auto& w : kWorlds)
    if (world == w.name) return &w;
  return nullptr;
}

double round4(double v) { return std::round(v * 1e4) / 1e4; }

Intrinsics scaled(double focal, int width, int height) {
  const double sx = static_cast<double>(width) / kRealWidth, sy = static_cast<double>(height) / kRealHeight;
  Intrinsics k;
  k.fx = round4(focal * sx);
  k.fy = round4(focal * sy);
  k.cx = round4(620.5 * sx);
  k.cy = round4(187.0 * sy);
  return k;
}

}  // namespace

std::string layout_name(Layout layout) { return layout == Layout::kVkitti1 ? "vkitti1" : "vkitti2"; }

const std::array<const char*, kNumClasses>& class_names() {
  static const std::array<const char*, kNumClasses> names = {
      "Misc", "Building", "Car",  "GuardRail", "Pole",  "Road", "Sky",
      "Terrain", "TrafficLight", "TrafficSign", "Tree", "Truck", "Van", "Vegetation"};
  return names;
}

const std::array<std::array<std::uint8_t, 3>, kNumClasses>& class_colors() {
  // vKITTI 2 classgt colours (colors.txt), in class-id order.
  static const std::array<std::array<std::uint8_t, 3>, kNumClasses> colors = {{
      {80, 80, 80},     // Misc
      {140, 140, 140},  // Building
      {255, 127, 80},   // Car
      {250, 100, 255},  // GuardRail
      {255, 130, 0},    // Pole
      {100, 60, 100},   // Road
      {90, 200, 255},   // Sky
      {210, 0, 200},    // Terrain
      {200, 200, 0},    // TrafficLight
      {255, 255, 0},    // TrafficSign
      {0, 199, 0},      // Tree
      {160, 60, 60},    // Truck
      {0, 139, 139},    // Van
      {90, 240, 0},     // Vegetation
  }};
  return colors;
}

std::optional<int> class_id(const std::string& name) {
  static const std::map<std::string, int> ids = [] {
    std::map<std::string, int> m;
    for (int i = 0; i < kNumClasses; ++i) m[class_names()[i]] = i;
    return m;
  }();
  auto it = ids.find(name);
  if (it == ids.end()) return std::nullopt;
  return it->second;
}

const std::vector<std::string>& worlds() {
  static const std::vector<std::string> names = {"0001", "0002", "0006", "0018", "0020"};
  return names;
}

const std::vector<std::string>& variations() {
  static const std::vector<std::string> names = {"15-deg-left", "15-deg-right", "30-deg-left", "30-deg-right",
                                                 "clone",       "fog",          "morning",     "overcast",
                                                 "rain",        "sunset"};
  return names;
}

int world_frame_count(const std::string& world) {
  const WorldFacts* w = find_world(world);
  return w ? w->frames : 0;
}

bool is_train_frame(const std::string& world, int frame) {
  const WorldFacts* w = find_world(world);
  return w != nullptr && frame >= w->train_first && frame <= w->train_last;
}

std::string scene_name(const std::string& world) {
  // "0001" -> "Scene01": vKITTI 2 keeps the last two digits of the KITTI sequence number.
  return "Scene" + (world.size() >= 2 ? world.substr(world.size() - 2) : world);
}

std::string world_from_scene(const std::string& scene) {
  const std::string prefix = "Scene";
  if (scene.compare(0, prefix.size(), prefix) != 0) return scene;
  std::string digits = scene.substr(prefix.size());
  return std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}

Intrinsics vkitti1_intrinsics(int width, int height) { return scaled(725.0, width, height); }
Intrinsics vkitti2_intrinsics(int width, int height) { return scaled(725.0087, width, height); }

}  // namespace sdn::data

// Facts about Virtual KITTI shared by the synthetic generator and the readers: the 3D-SDN class list,
// worlds, variations, frame counts, the 3D-SDN train/test split and the intrinsics of both layouts (the on-disk
// path scheme is in vkitti_paths.hpp). All pure; see ../shared/reference/3dsdn-and-vkitti.md §2.3, §5, §6.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/frame.hpp"

namespace sdn::data {

enum class Layout { kVkitti1, kVkitti2 };
std::string layout_name(Layout layout);  // "vkitti1" / "vkitti2"

// 3D-SDN class list, index = class id: 0 Misc ... 13 Vegetation.
constexpr int kNumClasses = 14;
enum ClassId : int {
  kMisc = 0, kBuilding, kCar, kGuardRail, kPole, kRoad, kSky,
  kTerrain, kTrafficLight, kTrafficSign, kTree, kTruck, kVan, kVegetation
};
const std::array<const char*, kNumClasses>& class_names();
// Colour used for visualisations (and, for stuff classes, the vKITTI 2 classgt colours).
const std::array<std::array<std::uint8_t, 3>, kNumClasses>& class_colors();
// Class id for a vKITTI category name ("Car", "GuardRail", ...); nullopt for "Undefined" or unknown names.
std::optional<int> class_id(const std::string& name);

const std::vector<std::string>& worlds();      // 0001 0002 0006 0018 0020
const std::vector<std::string>& variations();  // 15-deg-left ... sunset (10)
int world_frame_count(const std::string& world);  // 447, 233, 270, 339, 837; 0 if unknown

// 3D-SDN split: train frame ranges per world (inclusive), the rest is test.
bool is_train_frame(const std::string& world, int frame);

// "0001" <-> "Scene01"
std::string scene_name(const std::string& world);
std::string world_from_scene(const std::string& scene);

// Camera intrinsics of each layout scaled to an image of width x height (the real data is 1242x375):
// 1.3.1 fx = fy = 725, cx = 620.5, cy = 187; 2.0.3 fx = fy = 725.0087 (same principal point).
// Values are rounded to 1e-4 so that they survive a round trip through the text files exactly.
Intrinsics vkitti1_intrinsics(int width, int height);
Intrinsics vkitti2_intrinsics(int width, int height);
constexpr int kRealWidth = 1242, kRealHeight = 375;
constexpr double kStereoBaseline = 0.532725;  // metres between Camera_0 and Camera_1 (2.0.3)

}  // namespace sdn::data

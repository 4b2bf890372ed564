// How a synthetic frame looks: per-variation colour grading, sky, fog and rain, procedural surface textures
// (asphalt, lane markings, windows, foliage) and sensor noise. Only the RGB image depends on this; labels,
// depth and objects never do, which is what lets a test check that "fog changes the pixels, not the labels".
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "data/synth_scene.hpp"

namespace sdn::data::synth {

using Color = std::array<double, 3>;

struct Look {
  Color tint{1, 1, 1};
  double saturation = 1.0;
  Color sky_horizon{205, 225, 240};
  Color sky_zenith{80, 140, 215};
  double fog_distance = 0;  // metres over which 63% of a colour turns to fog; 0 = clear
  Color fog_color{196, 198, 202};
  double rain = 0;          // fraction of pixels lit by a rain streak
  double noise = 4.0;       // sensor noise amplitude in grey levels
};

// The look of `variation` in the world keyed by `world_key` (small per-world colour differences).
Look look_for(std::uint64_t world_key, const std::string& variation);

enum class Pattern { kPlain, kRoad, kTerrain, kBuilding, kFoliage, kVehicle, kGlass, kTyre };

// What a pixel's ray hit, in the terms the texture functions need.
struct Surface {
  Pattern pattern = Pattern::kPlain;
  Rgb paint{};
  double s = 0, t = 0;  // texture coordinates in metres (road: x,z; facade: z,height; vehicle: along, height)
  double shade = 1.0;   // face orientation factor
  double depth = 0;     // metres along the camera axis (for fog)
};

// Final colour of a hit surface. `pixel_key` is unique per (sequence, frame, camera, pixel).
Rgb shade_surface(const Look& look, const Surface& surface, std::uint64_t pixel_key);
// Colour of the sky for a ray of elevation `elevation` (0 at the horizon, 1 straight up).
Rgb shade_sky(const Look& look, double elevation, std::uint64_t pixel_key);

}  // namespace sdn::data::synth

// Implements the synthetic look (see synth_look.hpp): value-noise textures keyed by world position (so texture
// sticks to surfaces as the camera moves), grading per variation, fog by distance, and per-pixel sensor noise
// so that compressing the images costs what it costs on real photos.
#include "data/synth_look.hpp"

#include <algorithm>
#include <cmath>

#include "core/rng.hpp"

namespace sdn::data::synth {
namespace {

// Uniform in [-1, 1) for the texture cell that contains (s, t) at `cell` metres.
double cell_noise(std::uint64_t key, double s, double t, double cell) {
  const auto i = static_cast<std::int64_t>(std::floor(s / cell));
  const auto j = static_cast<std::int64_t>(std::floor(t / cell));
  const std::uint64_t h = mix64(key ^ mix64(static_cast<std::uint64_t>(i) * 0x9E3779B1ULL + static_cast<std::uint64_t>(j)));
  return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
}

Color to_color(const Rgb& c) { return {double(c[0]), double(c[1]), double(c[2])}; }

Color add(Color c, double v) { return {c[0] + v, c[1] + v, c[2] + v}; }

Color lerp(const Color& a, const Color& b, double f) {
  return {a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f};
}

bool near_line(double x, double line, double half_width) { return std::fabs(x - line) < half_width; }

Color texture(const Surface& s) {
  Color c = to_color(s.paint);
  switch (s.pattern) {
    case Pattern::kRoad: {
      const bool dashed = std::fmod(std::fabs(s.t), 9.0) < 3.0;
      if (near_line(s.s, -1.75, 0.08) || near_line(std::fabs(s.s), 5.25, 0.08) ||
          (dashed && near_line(s.s, 1.75, 0.08)))
        return add({222, 222, 216}, 6 * cell_noise(7, s.s, s.t, 0.1));
      return add(c, 10 * cell_noise(1, s.s, s.t, 0.3) + 5 * cell_noise(2, s.s, s.t, 1.2));
    }
    case Pattern::kTerrain: {
      const double n = cell_noise(3, s.s, s.t, 0.5);
      return lerp(add(c, 18 * n), {70, 110, 45}, 0.3 + 0.3 * cell_noise(4, s.s, s.t, 2.0));
    }
    case Pattern::kBuilding: {
      const double fy = std::fmod(std::fabs(s.t), 3.0), fx = std::fmod(std::fabs(s.s), 2.4);
      if (fy > 1.0 && fy < 2.3 && fx > 0.5 && fx < 1.9) return add({58, 68, 84}, 10 * cell_noise(5, s.s, s.t, 0.6));
      return add(c, 8 * cell_noise(6, s.s, s.t, 0.25));
    }
    case Pattern::kFoliage:
      return add(c, 30 * cell_noise(8, s.s, s.t, 0.25) + 14 * cell_noise(9, s.s, s.t, 0.08));
    case Pattern::kVehicle:
      return add(c, 5 * cell_noise(10, s.s, s.t, 0.15));
    case Pattern::kGlass:
      return add({60, 72, 90}, 6 * cell_noise(12, s.s, s.t, 0.3));
    case Pattern::kTyre:
      return add({30, 30, 32}, 4 * cell_noise(13, s.s, s.t, 0.05));
    case Pattern::kPlain:
      break;
  }
  return add(c, 6 * cell_noise(11, s.s, s.t, 0.1));
}

Rgb finish(const Look& look, Color c, std::uint64_t pixel_key) {
  for (int i = 0; i < 3; ++i) c[i] *= look.tint[i];
  const double lum = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
  for (int i = 0; i < 3; ++i) c[i] = lum + look.saturation * (c[i] - lum);
  const std::uint64_t h = mix64(pixel_key);
  const double noise = (static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0) * look.noise;
  const double streak = look.rain > 0 && static_cast<double>(mix64(h) >> 11) * 0x1.0p-53 < look.rain ? 35.0 : 0.0;
  Rgb out{};
  for (int i = 0; i < 3; ++i) out[i] = static_cast<std::uint8_t>(std::clamp(std::lround(c[i] + noise + streak), 0L, 255L));
  return out;
}

}  // namespace

Look look_for(std::uint64_t world_key, const std::string& variation) {
  Look l;
  if (variation == "morning") {
    l.tint = {1.08, 1.0, 0.86};
    l.sky_horizon = {250, 222, 176};
    l.sky_zenith = {110, 155, 210};
  } else if (variation == "sunset") {
    l.tint = {1.04, 0.74, 0.52};
    l.saturation = 0.9;
    l.sky_horizon = {255, 150, 80};
    l.sky_zenith = {70, 62, 120};
  } else if (variation == "overcast") {
    l.tint = {0.9, 0.9, 0.92};
    l.saturation = 0.45;
    l.sky_horizon = {185, 188, 192};
    l.sky_zenith = {150, 154, 160};
  } else if (variation == "fog") {
    l.tint = {0.95, 0.95, 0.97};
    l.saturation = 0.7;
    l.fog_distance = 45;
    l.sky_horizon = l.sky_zenith = l.fog_color;
  } else if (variation == "rain") {
    l.tint = {0.68, 0.7, 0.75};
    l.saturation = 0.55;
    l.sky_horizon = {125, 128, 134};
    l.sky_zenith = {95, 98, 104};
    l.rain = 0.02;
    l.noise = 6;
  }
  KeyedRng rng({world_key, 0x100C});  // a world's own small colour cast, the same in all its variations
  for (auto& t : l.tint) t *= rng.uniform(0.97, 1.03);
  return l;
}

Rgb shade_surface(const Look& look, const Surface& surface, std::uint64_t pixel_key) {
  Color c = texture(surface);
  for (auto& v : c) v *= surface.shade;
  if (look.fog_distance > 0) c = lerp(c, look.fog_color, 1.0 - std::exp(-surface.depth / look.fog_distance));
  return finish(look, c, pixel_key);
}

Rgb shade_sky(const Look& look, double elevation, std::uint64_t pixel_key) {
  const double f = std::pow(std::clamp(elevation, 0.0, 1.0), 0.6);
  return finish(look, lerp(look.sky_horizon, look.sky_zenith, f), pixel_key);
}

}  // namespace sdn::data::synth

// Implements the semantic-branch augmentation (see augment.hpp).
#include "data/augment.hpp"

#include <algorithm>
#include <cmath>

namespace sdn::data {
namespace {

inline std::uint8_t clamp_u8(double v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

void rgb_to_hsv(double r, double g, double b, double& h, double& s, double& v) {
  double mx = std::max({r, g, b}), mn = std::min({r, g, b}), d = mx - mn;
  v = mx;
  s = mx > 0 ? d / mx : 0;
  if (d == 0) {
    h = 0;
  } else if (mx == r) {
    h = std::fmod((g - b) / d, 6.0) / 6.0;
  } else if (mx == g) {
    h = ((b - r) / d + 2) / 6.0;
  } else {
    h = ((r - g) / d + 4) / 6.0;
  }
  if (h < 0) h += 1;
}

void hsv_to_rgb(double h, double s, double v, double& r, double& g, double& b) {
  double hh = h * 6.0;
  int i = static_cast<int>(std::floor(hh)) % 6;
  double f = hh - std::floor(hh), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (i) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
}

double gray(const std::uint8_t* p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

}  // namespace

void scaled_size(int w, int h, int short_side, int max_long_side, int round_up_to, int& out_w, int& out_h) {
  double scale = std::min(static_cast<double>(short_side) / std::min(w, h),
                          static_cast<double>(max_long_side) / std::max(w, h));
  auto up = [&](double x) {
    int v = std::max(1, static_cast<int>(std::lround(x)));
    return round_up_to > 1 ? (v + round_up_to - 1) / round_up_to * round_up_to : v;
  };
  out_w = up(w * scale);
  out_h = up(h * scale);
}

std::vector<std::uint8_t> resize_bilinear_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh) {
  if (ow == w && oh == h) return src;
  std::vector<std::uint8_t> out(static_cast<size_t>(ow) * oh * 3);
  const double sx = static_cast<double>(w) / ow, sy = static_cast<double>(h) / oh;
  for (int y = 0; y < oh; ++y) {
    double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, h - 1.0);
    int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, h - 1);
    double wy = fy - y0;
    for (int x = 0; x < ow; ++x) {
      double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, w - 1.0);
      int x0 = static_cast<int>(fx), x1 = std::min(x0 + 1, w - 1);
      double wx = fx - x0;
      const std::uint8_t* a = &src[(static_cast<size_t>(y0) * w + x0) * 3];
      const std::uint8_t* b = &src[(static_cast<size_t>(y0) * w + x1) * 3];
      const std::uint8_t* c = &src[(static_cast<size_t>(y1) * w + x0) * 3];
      const std::uint8_t* d = &src[(static_cast<size_t>(y1) * w + x1) * 3];
      std::uint8_t* o = &out[(static_cast<size_t>(y) * ow + x) * 3];
      for (int k = 0; k < 3; ++k)
        o[k] = clamp_u8((a[k] * (1 - wx) + b[k] * wx) * (1 - wy) + (c[k] * (1 - wx) + d[k] * wx) * wy);
    }
  }
  return out;
}

template <class T>
std::vector<T> resize_nearest(const std::vector<T>& src, int w, int h, int ow, int oh, int channels) {
  if (ow == w && oh == h) return src;
  std::vector<T> out(static_cast<size_t>(ow) * oh * channels);
  for (int y = 0; y < oh; ++y) {
    int sy = std::min(h - 1, static_cast<int>((y + 0.5) * h / oh));
    for (int x = 0; x < ow; ++x) {
      int sx = std::min(w - 1, static_cast<int>((x + 0.5) * w / ow));
      for (int k = 0; k < channels; ++k)
        out[(static_cast<size_t>(y) * ow + x) * channels + k] = src[(static_cast<size_t>(sy) * w + sx) * channels + k];
    }
  }
  return out;
}

template <class T>
void flip_horizontal(std::vector<T>& p, int w, int h, int channels) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w / 2; ++x)
      for (int k = 0; k < channels; ++k)
        std::swap(p[(static_cast<size_t>(y) * w + x) * channels + k],
                  p[(static_cast<size_t>(y) * w + (w - 1 - x)) * channels + k]);
}

template std::vector<std::uint8_t> resize_nearest(const std::vector<std::uint8_t>&, int, int, int, int, int);
template std::vector<std::uint16_t> resize_nearest(const std::vector<std::uint16_t>&, int, int, int, int, int);
template void flip_horizontal(std::vector<std::uint8_t>&, int, int, int);
template void flip_horizontal(std::vector<std::uint16_t>&, int, int, int);

void color_jitter(std::vector<std::uint8_t>& rgb, double brightness, double contrast, double saturation, double hue,
                  const int order[4]) {
  const size_t n = rgb.size() / 3;
  for (int step = 0; step < 4; ++step) {
    switch (order[step]) {
      case 0:
        if (brightness != 1.0)
          for (auto& v : rgb) v = clamp_u8(v * brightness);
        break;
      case 1:
        if (contrast != 1.0 && n > 0) {
          double mean = 0;
          for (size_t i = 0; i < n; ++i) mean += gray(&rgb[i * 3]);
          mean /= static_cast<double>(n);
          for (auto& v : rgb) v = clamp_u8(mean + contrast * (v - mean));
        }
        break;
      case 2:
        if (saturation != 1.0)
          for (size_t i = 0; i < n; ++i) {
            double g = gray(&rgb[i * 3]);
            for (int k = 0; k < 3; ++k) rgb[i * 3 + k] = clamp_u8(g + saturation * (rgb[i * 3 + k] - g));
          }
        break;
      default:
        if (hue != 0.0)
          for (size_t i = 0; i < n; ++i) {
            double h, s, v, r, g, b;
            rgb_to_hsv(rgb[i * 3] / 255.0, rgb[i * 3 + 1] / 255.0, rgb[i * 3 + 2] / 255.0, h, s, v);
            h = std::fmod(h + hue + 1.0, 1.0);
            hsv_to_rgb(h, s, v, r, g, b);
            rgb[i * 3] = clamp_u8(r * 255), rgb[i * 3 + 1] = clamp_u8(g * 255), rgb[i * 3 + 2] = clamp_u8(b * 255);
          }
        break;
    }
  }
}

void augment(Sample& s, const AugmentOptions& o, KeyedRng& rng) {
  // Draw every decision first, in a fixed order, so the stream is identical whatever planes are present.
  const int short_side = o.short_sides.empty() ? 0 : o.short_sides[rng.below(o.short_sides.size())];
  const bool flip = o.flip && rng.uniform() < 0.5;
  const double b = rng.uniform(std::max(0.0, 1 - o.brightness), 1 + o.brightness);
  const double c = rng.uniform(std::max(0.0, 1 - o.contrast), 1 + o.contrast);
  const double sat = rng.uniform(std::max(0.0, 1 - o.saturation), 1 + o.saturation);
  const double h = rng.uniform(-o.hue, o.hue);
  int order[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);

  int w = s.width, hh = s.height;
  if (short_side > 0) {
    int ow = 0, oh = 0;
    scaled_size(w, hh, short_side, o.max_long_side, o.round_up_to, ow, oh);
    if (!s.rgb.empty()) s.rgb = resize_bilinear_rgb(s.rgb, w, hh, ow, oh);
    if (!s.classes.empty()) s.classes = resize_nearest(s.classes, w, hh, ow, oh);
    if (!s.instance.empty()) s.instance = resize_nearest(s.instance, w, hh, ow, oh);
    if (!s.depth.empty()) s.depth = resize_nearest(s.depth, w, hh, ow, oh);
    s.width = w = ow;
    s.height = hh = oh;
  }
  if (flip) {
    if (!s.rgb.empty()) flip_horizontal(s.rgb, w, hh, 3);
    if (!s.classes.empty()) flip_horizontal(s.classes, w, hh);
    if (!s.instance.empty()) flip_horizontal(s.instance, w, hh);
    if (!s.depth.empty()) flip_horizontal(s.depth, w, hh);
  }
  if (!s.rgb.empty()) color_jitter(s.rgb, b, c, sat, h, order);
}

}  // namespace sdn::data

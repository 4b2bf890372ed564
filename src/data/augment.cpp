// Implements the semantic-branch augmentation and its geometry (see augment.hpp). The PIL transcriptions (resize
// and colour jitter) live in pil_ops.cpp.
#include "data/augment.hpp"

#include <algorithm>
#include <cmath>

namespace sdn::data {
namespace {

inline std::uint8_t clamp_u8(double v) { return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

constexpr double kPi = 3.14159265358979323846;

// Wraps to [-pi, pi).
float wrap_pi(double a) {
  a = std::fmod(a + kPi, 2 * kPi);
  if (a < 0) a += 2 * kPi;
  return static_cast<float>(a - kPi);
}

}  // namespace

void scaled_size(int w, int h, int short_side, int max_long_side, int round_up_to, int& out_w, int& out_h) {
  // The same double arithmetic as the original: scale = min(s / min, m / max), then int(side * scale).
  const double scale = std::min(static_cast<double>(short_side) / std::min(w, h),
                                static_cast<double>(max_long_side) / std::max(w, h));
  auto side = [&](int x) {
    const int v = std::max(1, static_cast<int>(x * scale));
    return round_up_to > 1 ? (v + round_up_to - 1) / round_up_to * round_up_to : v;
  };
  out_w = side(w);
  out_h = side(h);
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
  // PIL's ImagingScaleAffine: the source coordinate starts at half a step and is accumulated step by step in
  // double; at exact boundaries that picks other pixels than (x + 0.5) * w / ow would (e.g. 2 of 993 columns
  // for 1242 -> 993), so the accumulation is copied, not the formula.
  auto table = [](int in, int out) {
    std::vector<int> t(static_cast<size_t>(out));
    const double step = static_cast<double>(static_cast<float>(in)) / out;
    double pos = step * 0.5;
    for (int i = 0; i < out; ++i, pos += step) t[static_cast<size_t>(i)] = std::min(in - 1, static_cast<int>(pos));
    return t;
  };
  const auto xs = table(w, ow), ys = table(h, oh);
  std::vector<T> out(static_cast<size_t>(ow) * oh * channels);
  for (int y = 0; y < oh; ++y) {
    const size_t row = static_cast<size_t>(ys[static_cast<size_t>(y)]) * w;
    for (int x = 0; x < ow; ++x)
      for (int k = 0; k < channels; ++k)
        out[(static_cast<size_t>(y) * ow + x) * channels + k] = src[(row + xs[static_cast<size_t>(x)]) * channels + k];
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

template <class T>
std::vector<T> pad_bottom_right(const std::vector<T>& src, int w, int h, int ow, int oh, T fill, int channels) {
  if (ow == w && oh == h) return src;
  std::vector<T> out(static_cast<size_t>(ow) * oh * channels, fill);
  const size_t row = static_cast<size_t>(w) * channels;
  for (int y = 0; y < std::min(h, oh); ++y)
    std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(y * row), std::min<size_t>(row, static_cast<size_t>(ow) * channels),
                out.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y) * ow * channels));
  return out;
}

template std::vector<std::uint8_t> resize_nearest(const std::vector<std::uint8_t>&, int, int, int, int, int);
template std::vector<std::uint16_t> resize_nearest(const std::vector<std::uint16_t>&, int, int, int, int, int);
template void flip_horizontal(std::vector<std::uint8_t>&, int, int, int);
template void flip_horizontal(std::vector<std::uint16_t>&, int, int, int);
template std::vector<std::uint8_t> pad_bottom_right(const std::vector<std::uint8_t>&, int, int, int, int, std::uint8_t,
                                                    int);
template std::vector<std::uint16_t> pad_bottom_right(const std::vector<std::uint16_t>&, int, int, int, int,
                                                     std::uint16_t, int);

void resize_geometry(std::vector<ObjectGT>& objects, Intrinsics& K, int w, int h, int ow, int oh) {
  const double sx = static_cast<double>(ow) / w, sy = static_cast<double>(oh) / h;
  for (auto& o : objects) {
    o.left = static_cast<float>(o.left * sx);
    o.right = static_cast<float>((o.right + 1.0) * sx - 1.0);
    o.top = static_cast<float>(o.top * sy);
    o.bottom = static_cast<float>((o.bottom + 1.0) * sy - 1.0);
  }
  K.fx *= sx;
  K.fy *= sy;
  K.cx = (K.cx + 0.5) * sx - 0.5;
  K.cy = (K.cy + 0.5) * sy - 0.5;
}

void flip_geometry(std::vector<ObjectGT>& objects, Intrinsics& K, int w) {
  const float last = static_cast<float>(w - 1);
  for (auto& o : objects) {
    const float l = o.left;
    o.left = last - o.right;
    o.right = last - l;
    o.x3d = -o.x3d;
    o.rotation_y = wrap_pi(kPi - o.rotation_y);
    o.alpha = wrap_pi(kPi - o.alpha);
  }
  K.cx = (w - 1) - K.cx;
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

  // The original's order: jitter the full-resolution PIL image, flip, then resize (TrainDataset.__getitem__).
  if (!s.rgb.empty()) color_jitter(s.rgb, b, c, sat, h, order);
  int w = s.width, hh = s.height;
  if (flip) {
    if (!s.rgb.empty()) flip_horizontal(s.rgb, w, hh, 3);
    if (!s.classes.empty()) flip_horizontal(s.classes, w, hh);
    if (!s.instance.empty()) flip_horizontal(s.instance, w, hh);
    if (!s.depth.empty()) flip_horizontal(s.depth, w, hh);
    flip_geometry(s.objects, s.K, w);
  }
  if (short_side > 0) {
    int ow = 0, oh = 0;
    scaled_size(w, hh, short_side, o.max_long_side, 1, ow, oh);
    if (!s.rgb.empty()) s.rgb = resize_pil_bilinear_rgb(s.rgb, w, hh, ow, oh);
    if (!s.classes.empty()) s.classes = resize_nearest(s.classes, w, hh, ow, oh);
    if (!s.instance.empty()) s.instance = resize_nearest(s.instance, w, hh, ow, oh);
    if (!s.depth.empty()) s.depth = resize_nearest(s.depth, w, hh, ow, oh);
    resize_geometry(s.objects, s.K, w, hh, ow, oh);
    s.width = w = ow;
    s.height = hh = oh;
  }
  if (o.pad_to > 1) {
    const int pw = (w + o.pad_to - 1) / o.pad_to * o.pad_to, ph = (hh + o.pad_to - 1) / o.pad_to * o.pad_to;
    if (!s.rgb.empty()) s.rgb = pad_bottom_right<std::uint8_t>(s.rgb, w, hh, pw, ph, 0, 3);
    if (!s.classes.empty()) s.classes = pad_bottom_right<std::uint8_t>(s.classes, w, hh, pw, ph, kUnlabelled);
    if (!s.instance.empty()) s.instance = pad_bottom_right<std::uint16_t>(s.instance, w, hh, pw, ph, 0);
    if (!s.depth.empty()) s.depth = pad_bottom_right<std::uint16_t>(s.depth, w, hh, pw, ph, kDepthSky);
    s.width = pw;
    s.height = ph;
  }
}

}  // namespace sdn::data

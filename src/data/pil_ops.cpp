// Implements the PIL transcriptions (see pil_ops.hpp). The mixed float/double expressions copy PIL's C source
// on purpose: which operations round to float32 decides the last bit, and so the truncated byte.
#include "data/pil_ops.hpp"

#include <algorithm>
#include <cmath>

namespace sdn::data {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's PRECISION_BITS for 8-bit images

// Coefficients of one axis (precompute_coeffs + normalize_coeffs_8bpc, bilinear filter, box = whole image).
struct Coeffs {
  int ksize = 0;
  std::vector<int> first, count;  // per output pixel: first source pixel and number of taps
  std::vector<std::int32_t> k;    // out_size x ksize fixed-point weights
};

// PIL's filters (Resample.c): bilinear (support 1) and bicubic with a = -0.5 (support 2).
enum class Filter { kBilinear, kBicubic };

double filter_weight(Filter f, double x) {
  if (f == Filter::kBilinear) return x < 1.0 ? 1.0 - x : 0.0;
  constexpr double a = -0.5;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

Coeffs coefficients(int in_size, int out_size, Filter filter) {
  Coeffs c;
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);  // PIL's float box
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = (filter == Filter::kBilinear ? 1.0 : 2.0) * filterscale;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<size_t>(out_size));
  c.count.resize(static_cast<size_t>(out_size));
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double t = std::fabs((x + xmin - center + 0.5) * ss);
      w[static_cast<size_t>(x)] = filter_weight(filter, t);
      ww += w[static_cast<size_t>(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[static_cast<size_t>(x)] / ww : w[static_cast<size_t>(x)];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<std::int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.first[static_cast<size_t>(xx)] = xmin;
    c.count[static_cast<size_t>(xx)] = xmax;
  }
  return c;
}

inline std::uint8_t clip8(int v) { return static_cast<std::uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255)); }

// PIL's "L" value of an RGB pixel (Convert.c rgb2l: L / 1000 up to Pillow 6, L24 >> 16 since Pillow 7).
inline int luma(const std::uint8_t* p, PilLuma version) {
  return version == PilLuma::kPillow5 ? (p[0] * 299 + p[1] * 587 + p[2] * 114) / 1000
                                      : (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16;
}

// Blend.c: d + alpha (v - d) in float32, truncated, clipped.
inline std::uint8_t blend(int d, int v, float alpha) {
  const float t = static_cast<float>(d) + alpha * static_cast<float>(v - d);
  if (t <= 0.0f) return 0;
  if (t >= 255.0f) return 255;
  return static_cast<std::uint8_t>(t);
}

void rgb_to_hsv(const std::uint8_t* in, std::uint8_t* out) {  // Convert.c rgb2hsv_row
  const std::uint8_t r = in[0], g = in[1], b = in[2];
  const std::uint8_t maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
  std::uint8_t uh = 0, us = 0;
  if (minc != maxc) {
    const float cr = static_cast<float>(maxc - minc);
    const float s = cr / static_cast<float>(maxc);
    const float rc = static_cast<float>(maxc - r) / cr, gc = static_cast<float>(maxc - g) / cr,
                bc = static_cast<float>(maxc - b) / cr;
    float h;
    if (r == maxc)
      h = bc - gc;
    else if (g == maxc)
      h = static_cast<float>(2.0 + rc - bc);
    else
      h = static_cast<float>(4.0 + gc - rc);
    h = static_cast<float>(std::fmod(h / 6.0 + 1.0, 1.0));
    uh = static_cast<std::uint8_t>(std::clamp(static_cast<int>(h * 255.0), 0, 255));
    us = static_cast<std::uint8_t>(std::clamp(static_cast<int>(s * 255.0), 0, 255));
  }
  out[0] = uh, out[1] = us, out[2] = maxc;
}

void hsv_to_rgb(const std::uint8_t* in, std::uint8_t* out) {  // Convert.c hsv2rgb
  const std::uint8_t h = in[0], s = in[1], v = in[2];
  if (s == 0) {
    out[0] = out[1] = out[2] = v;
    return;
  }
  const int i = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float f = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(i));
  const float fs = static_cast<float>(static_cast<float>(s) / 255.0);
  auto clip = [](double x) { return static_cast<std::uint8_t>(std::clamp(static_cast<int>(std::round(x)), 0, 255)); };
  const std::uint8_t p = clip(static_cast<float>(v) * (1.0 - fs));
  const std::uint8_t q = clip(static_cast<float>(v) * (1.0 - fs * f));
  const std::uint8_t t = clip(static_cast<float>(v) * (1.0 - fs * (1.0 - f)));
  switch (i % 6) {
    case 0: out[0] = v, out[1] = t, out[2] = p; break;
    case 1: out[0] = q, out[1] = v, out[2] = p; break;
    case 2: out[0] = p, out[1] = v, out[2] = t; break;
    case 3: out[0] = p, out[1] = q, out[2] = v; break;
    case 4: out[0] = t, out[1] = p, out[2] = v; break;
    default: out[0] = v, out[1] = p, out[2] = q; break;
  }
}

std::vector<std::uint8_t> resize_pil_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh,
                                         Filter filter) {
  if (ow == w && oh == h) return src;
  const Coeffs vert = coefficients(h, oh, filter);
  // Rows of the source the vertical pass reads (PIL resamples only those horizontally).
  const int y_first = vert.first.front(), y_last = vert.first.back() + vert.count.back();
  std::vector<std::uint8_t> tmp;
  const std::uint8_t* rows = src.data();
  int row_offset = 0;
  if (ow != w) {
    const Coeffs horiz = coefficients(w, ow, filter);
    tmp.resize(static_cast<size_t>(y_last - y_first) * ow * 3);
    for (int y = y_first; y < y_last; ++y) {
      const std::uint8_t* in = &src[static_cast<size_t>(y) * w * 3];
      std::uint8_t* out = &tmp[static_cast<size_t>(y - y_first) * ow * 3];
      for (int xx = 0; xx < ow; ++xx) {
        const std::int32_t* k = &horiz.k[static_cast<size_t>(xx) * horiz.ksize];
        const int x0 = horiz.first[static_cast<size_t>(xx)], n = horiz.count[static_cast<size_t>(xx)];
        for (int ch = 0; ch < 3; ++ch) {
          int ss = 1 << (kPrecisionBits - 1);
          for (int x = 0; x < n; ++x) ss += in[(x0 + x) * 3 + ch] * k[x];
          out[xx * 3 + ch] = clip8(ss);
        }
      }
    }
    rows = tmp.data();
    row_offset = y_first;
  }
  if (oh == h) return tmp;
  std::vector<std::uint8_t> out(static_cast<size_t>(ow) * oh * 3);
  for (int yy = 0; yy < oh; ++yy) {
    const std::int32_t* k = &vert.k[static_cast<size_t>(yy) * vert.ksize];
    const int y0 = vert.first[static_cast<size_t>(yy)] - row_offset, n = vert.count[static_cast<size_t>(yy)];
    for (int x = 0; x < ow * 3; ++x) {
      int ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < n; ++y) ss += rows[static_cast<size_t>(y0 + y) * ow * 3 + x] * k[y];
      out[static_cast<size_t>(yy) * ow * 3 + x] = clip8(ss);
    }
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> resize_pil_bilinear_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh) {
  return resize_pil_rgb(src, w, h, ow, oh, Filter::kBilinear);
}

std::vector<std::uint8_t> resize_pil_bicubic_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh) {
  return resize_pil_rgb(src, w, h, ow, oh, Filter::kBicubic);
}

void color_jitter(std::vector<std::uint8_t>& rgb, double brightness, double contrast, double saturation, double hue,
                  const int order[4], PilLuma version) {
  const size_t n = rgb.size() / 3;
  for (int step = 0; step < 4; ++step) {
    switch (order[step]) {
      case 0: {
        const float a = static_cast<float>(brightness);
        if (a != 1.0f)
          for (auto& v : rgb) v = blend(0, v, a);
        break;
      }
      case 1: {
        const float a = static_cast<float>(contrast);
        if (a != 1.0f && n > 0) {
          // ImageStat's mean of the "L" histogram (an exact integer sum over n), rounded as int(mean + 0.5).
          std::int64_t sum = 0;
          for (size_t i = 0; i < n; ++i) sum += luma(&rgb[i * 3], version);
          const int mean = static_cast<int>(static_cast<double>(sum) / static_cast<double>(n) + 0.5);
          for (auto& v : rgb) v = blend(mean, v, a);
        }
        break;
      }
      case 2: {
        const float a = static_cast<float>(saturation);
        if (a != 1.0f)
          for (size_t i = 0; i < n; ++i) {
            const int l = luma(&rgb[i * 3], version);
            for (int k = 0; k < 3; ++k) rgb[i * 3 + k] = blend(l, rgb[i * 3 + k], a);
          }
        break;
      }
      default: {
        // torchvision: np_h += np.uint8(hue_factor * 255); the float -> uint8 cast truncates towards zero and
        // wraps (-12.75 -> -12 -> 244), and the uint8 addition wraps modulo 256. The HSV round trip alone is not
        // the identity, so it runs for every nonzero factor, even one whose shift is 0 (as torchvision does).
        const auto shift = static_cast<std::uint8_t>(static_cast<int>(hue * 255) & 0xff);
        if (hue != 0.0)
          for (size_t i = 0; i < n; ++i) {
            std::uint8_t hsv[3];
            rgb_to_hsv(&rgb[i * 3], hsv);
            hsv[0] = static_cast<std::uint8_t>(hsv[0] + shift);
            hsv_to_rgb(hsv, &rgb[i * 3]);
          }
        break;
      }
    }
  }
}

}  // namespace sdn::data

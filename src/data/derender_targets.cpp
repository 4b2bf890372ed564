// Per-object inputs and targets of the derenderer (original: geometric/derender3d/datasets.py, VKitti and
// Transforms). Float arithmetic follows the original's order; the original computes in float64 and casts.
#include "data/derender_targets.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.hpp"
#include "data/pil_ops.hpp"

namespace sdn::data::derender {

namespace {

template <class O>
bool keep(const O& o) {
  const double area = (double(o.bottom) - o.top) * (double(o.right) - o.left);
  return area > 16.0 * 16.0 && o.truncation < 0.7f && o.occupancy > 0.3f;
}

}  // namespace

bool keep_for_training(const ObjectGT& o) { return keep(o); }
bool keep_for_training(const shard::ObjectRow& row) { return keep(row); }

bool instance_roi(const std::vector<std::uint16_t>& instance, int width, int height, std::uint16_t id, Roi& roi) {
  int t = height, l = width, b = -1, r = -1;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      if (instance[size_t(y) * width + x] == id) {
        t = std::min(t, y);
        b = std::max(b, y);
        l = std::min(l, x);
        r = std::max(r, x);
      }
  if (b < 0) return false;
  roi = {t, l, b + 1, r + 1};
  return true;
}

Roi jitter_roi(const Roi& roi, KeyedRng& rng, double ratio) {
  const int dy = static_cast<int>(ratio * (roi[2] - roi[0]));
  const int dx = static_cast<int>(ratio * (roi[3] - roi[1]));
  auto randint = [&](int d) { return static_cast<int>(rng.below(std::uint64_t(2 * d + 1))) - d; };
  Roi out = roi;
  out[0] += randint(dy);
  out[1] += randint(dx);
  out[2] += randint(dy);
  out[3] += randint(dx);
  return out;
}

float squared_distance(const ObjectGT& o) {
  const double x = o.x3d, y = -(double(o.y3d) - o.height3d / 2.0), z = -double(o.z3d);
  return static_cast<float>(x * x + y * y + z * z);
}

std::array<float, 4> roi_norm(const Roi& roi, const Intrinsics& K) {
  const double f = K.fx, u0 = K.cx, v0 = K.cy;
  return {static_cast<float>((roi[0] - v0) / f), static_cast<float>((roi[1] - u0) / f),
          static_cast<float>((roi[2] - v0) / f), static_cast<float>((roi[3] - u0) / f)};
}

Targets object_targets(const ObjectGT& o, const Roi& roi, const Intrinsics& K) {
  const double f = K.fx, u0 = K.cx, v0 = K.cy;
  const double rn[4] = {(roi[0] - v0) / f, (roi[1] - u0) / f, (roi[2] - v0) / f, (roi[3] - u0) / f};
  const double mv = (rn[2] + rn[0]) / 2.0, mu = (rn[3] + rn[1]) / 2.0, dh = rn[2] - rn[0], dw = rn[3] - rn[1];
  if (!(dh > 0 && dw > 0))
    throw Error("derenderer ROI (" + std::to_string(roi[0]) + ", " + std::to_string(roi[1]) + ", " +
                std::to_string(roi[2]) + ", " + std::to_string(roi[3]) + ") of track " +
                std::to_string(o.track_id) + " is empty");
  Targets t;
  for (int k = 0; k < 4; ++k) t.roi_norm[k] = static_cast<float>(rn[k]);
  t.mroi_norm = {static_cast<float>(mv), static_cast<float>(mu)};
  t.droi_norm = {static_cast<float>(dh), static_cast<float>(dw)};
  const double ry = o.rotation_y, theta = -ry;
  t.theta = static_cast<float>(theta);
  t.theta_delta = {static_cast<float>(std::cos(theta)), static_cast<float>(std::sin(theta))};
  t.rotation = {static_cast<float>(std::cos(ry / 2)), 0.0f, static_cast<float>(-std::sin(ry / 2)), 0.0f};
  const double scale[3] = {o.length3d, o.height3d, kWidthFactor * double(o.width3d)};
  const double xyz[3] = {o.x3d, -(double(o.y3d) - o.height3d / 2.0), -double(o.z3d)};
  for (int a = 0; a < 3; ++a) {
    t.scale[a] = static_cast<float>(scale[a]);
    t.log_scale[a] = static_cast<float>(std::log(scale[a]));
    t.translation[a] = static_cast<float>(xyz[a]);
  }
  const double t2d[2] = {(xyz[1] / xyz[2] - mv) / dh, (-xyz[0] / xyz[2] - mu) / dw};
  for (int a = 0; a < 2; ++a)
    t.translation2d[a] = static_cast<float>(std::clamp(t2d[a], -double(kTranslation2dClip), double(kTranslation2dClip)));
  const double depth = xyz[0] * xyz[0] + xyz[1] * xyz[1] + xyz[2] * xyz[2];
  t.log_depth = static_cast<float>(std::log(depth) + std::log(dh) + std::log(dw));
  return t;
}

std::vector<std::uint8_t> ignore_mask(const std::vector<std::uint16_t>& instance, int width, int height,
                                      const std::vector<ObjectGT>& objects, size_t index) {
  SDN_CHECK(index < objects.size(), "ignore_mask: object index out of range");
  const float mine = squared_distance(objects[index]);
  // instance value (track id + 1) -> closer than this object?
  std::vector<std::uint8_t> closer(65536, 0);
  for (size_t k = 0; k < objects.size(); ++k)
    if (k != index && squared_distance(objects[k]) < mine) {
      const int v = objects[k].track_id + 1;
      if (v > 0 && v < 65536) closer[size_t(v)] = 1;
    }
  std::vector<std::uint8_t> out(size_t(width) * height, 0);
  for (size_t p = 0; p < out.size(); ++p) out[p] = closer[instance[p]];
  return out;
}

std::vector<std::uint8_t> crop_square(const std::vector<std::uint8_t>& image, int width, int height, int channels,
                                      const Roi& roi, const std::array<std::uint8_t, 3>& fill, int& side) {
  const int h = roi[2] - roi[0], w = roi[3] - roi[1];
  const int s = std::max(h, w), dh = (s - h) / 2, dw = (s - w) / 2;
  SDN_CHECK(s > 0 && channels >= 1 && channels <= 3, "crop_square: empty ROI or bad channel count");
  // The padded image spans [-pad_top, height + pad_bottom) x [-pad_left, width + pad_right) in image coordinates.
  const int pad_l = -std::min(0, roi[1] - dw), pad_t = -std::min(0, roi[0] - dh);
  const int pad_r = std::max(0, roi[3] + dw - width), pad_b = std::max(0, roi[2] + dh - height);
  std::vector<std::uint8_t> out(size_t(s) * s * channels, 0);
  for (int i = 0; i < s; ++i) {
    const int y = roi[0] - dh + i;
    for (int j = 0; j < s; ++j) {
      const int x = roi[1] - dw + j;
      std::uint8_t* o = &out[(size_t(i) * s + j) * channels];
      if (y >= 0 && y < height && x >= 0 && x < width) {
        for (int c = 0; c < channels; ++c) o[c] = image[(size_t(y) * width + x) * channels + c];
      } else if (y >= -pad_t && y < height + pad_b && x >= -pad_l && x < width + pad_r) {
        for (int c = 0; c < channels; ++c) o[c] = fill[size_t(c)];
      }  // else: beyond the padded image, where PIL's crop yields 0 (odd s - w or s - h at the far edge)
    }
  }
  side = s;
  return out;
}

std::vector<float> normalise_crop(const std::vector<std::uint8_t>& square_rgb, int side, int size, float mean,
                                  float std) {
  const auto small = resize_pil_bilinear_rgb(square_rgb, side, side, size, size);
  std::vector<float> out(size_t(3) * size * size);
  const size_t plane = size_t(size) * size;
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) out[size_t(c) * plane + p] = (small[p * 3 + c] / 255.0f - mean) / std;
  return out;
}

std::vector<float> crop_plane(const std::vector<std::uint8_t>& plane01, int width, int height, const Roi& roi,
                              bool fill_one, int size) {
  std::vector<std::uint8_t> scaled(plane01.size());
  for (size_t p = 0; p < plane01.size(); ++p) scaled[p] = plane01[p] ? 255 : 0;
  int side = 0;
  const std::uint8_t f = fill_one ? 255 : 0;
  const auto sq = crop_square(scaled, width, height, 1, roi, {f, f, f}, side);
  // PIL resizes an "L" image with the same per-channel arithmetic as RGB: resize the grey triplets.
  std::vector<std::uint8_t> grey(sq.size() * 3);
  for (size_t p = 0; p < sq.size(); ++p) grey[3 * p] = grey[3 * p + 1] = grey[3 * p + 2] = sq[p];
  const auto small = resize_pil_bilinear_rgb(grey, side, side, size, size);
  std::vector<float> out(small.size() / 3);
  for (size_t p = 0; p < out.size(); ++p) out[p] = small[3 * p] / 255.0f;
  return out;
}

bool crop_object(const Frame& frame, size_t index, KeyedRng* jitter, ObjectCrop& out, int mask_size) {
  SDN_CHECK(index < frame.objects.size(), "crop_object: object index out of range");
  const int w = frame.width, h = frame.height;
  const ObjectGT& o = frame.objects[index];
  const int id = o.track_id + 1;
  Roi roi{};
  if (id <= 0 || id > 65535 || !instance_roi(frame.instance, w, h, static_cast<std::uint16_t>(id), roi)) return false;
  if (jitter) roi = jitter_roi(roi, *jitter);
  ObjectCrop c;
  c.roi = roi;
  c.targets = object_targets(o, roi, frame.K);
  c.rgb = crop_square(frame.rgb, w, h, 3, roi, {127, 127, 127}, c.side);
  std::vector<std::uint8_t> mask(frame.instance.size());
  for (size_t p = 0; p < mask.size(); ++p) mask[p] = frame.instance[p] == id;
  c.mask = crop_plane(mask, w, h, roi, /*fill_one=*/false, mask_size);
  c.ignore = crop_plane(ignore_mask(frame.instance, w, h, frame.objects, index), w, h, roi, /*fill_one=*/true, mask_size);
  out = std::move(c);
  return true;
}

}  // namespace sdn::data::derender

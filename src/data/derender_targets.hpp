// The derenderer's per-object inputs and targets, exactly as the original's VKitti.__getitem__
// (geometric/derender3d/datasets.py) computes them: the ROI (tight box of the instance mask, jittered ±10 %
// per side in training), its normalised camera coordinates, the 3D targets (θ = −ry as cos/sin, translation2d
// clipped to ±6, log scale with the 1.2206 width factor, log(depth²·area)), the ignore mask of closer objects,
// and the square grey-padded crops resized with PIL's bilinear filter (data/pil_ops.hpp). Pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "data/frame.hpp"
#include "data/shard_format.hpp"

namespace sdn::data::derender {

// Pixel box (top, left, bottom, right), bottom/right exclusive, as the original's mask_to_roi returns it.
using Roi = std::array<int, 4>;

constexpr float kWidthFactor = 1.2206f;  // the original's scale = [l3d, h3d, 1.2206 * w3d]
constexpr float kTranslation2dClip = 6.0f;

// The training filter of the original: motgt box area > 16^2, truncation < 0.7, occupancy > 0.3 (the row form
// is the ObjectFilter of data/items.hpp's object_items; the class, Car or Van, is the caller's to check).
bool keep_for_training(const ObjectGT& object);
bool keep_for_training(const shard::ObjectRow& row);

// Tight box of the pixels of `instance` equal to `id`; false if there are none.
bool instance_roi(const std::vector<std::uint16_t>& instance, int width, int height, std::uint16_t id, Roi& roi);

// Each side moved by an integer uniform in [-d, d] (both ends included), d = int(0.1 * extent), drawn in the
// order top, left, bottom, right (Transforms.roi_jitter with `random` replaced by `rng`).
Roi jitter_roi(const Roi& roi, KeyedRng& rng, double ratio = 0.1);

struct Targets {
  std::array<float, 4> roi_norm{};       // ((t - v0)/f, (l - u0)/f, (b - v0)/f, (r - u0)/f)
  std::array<float, 2> mroi_norm{};      // centre (v, u)
  std::array<float, 2> droi_norm{};      // size (h, w)
  float theta = 0;                       // -ry
  std::array<float, 2> theta_delta{};    // (cos θ, sin θ): the regression target
  std::array<float, 4> rotation{};       // quaternion (cos(ry/2), 0, -sin(ry/2), 0)
  std::array<float, 3> translation{};    // object centre, x right, y up, z backwards (OpenGL)
  std::array<float, 2> translation2d{};  // projected centre relative to the ROI centre, in ROI units, clipped
  std::array<float, 3> scale{};          // (l3d, h3d, 1.2206 w3d)
  std::array<float, 3> log_scale{};
  float log_depth = 0;                   // log(|translation|^2) + log(droi_h) + log(droi_w)
};

// ((t - v0)/f, (l - u0)/f, (b - v0)/f, (r - u0)/f): the ROI in normalised camera coordinates, f = K.fx.
std::array<float, 4> roi_norm(const Roi& roi, const Intrinsics& K);

// One focal length (K.fx, the original assumes square pixels) and the principal point (K.cx, K.cy).
Targets object_targets(const ObjectGT& object, const Roi& roi, const Intrinsics& K);

// |translation|^2 of an object: the depth key of the ignore mask and of far-to-near painting.
float squared_distance(const ObjectGT& object);

// 1 where a pixel belongs to another listed object (instance = track id + 1) closer to the camera than
// objects[index], else 0: the original's image_ignore. Objects not in `objects` are never ignored.
std::vector<std::uint8_t> ignore_mask(const std::vector<std::uint16_t>& instance, int width, int height,
                                      const std::vector<ObjectGT>& objects, size_t index);

// Transforms.crop_square: a side-s square (s = max(h, w)) around the ROI, the image padded with `fill` where
// the square leaves it; like PIL, pixels beyond even the padded image are 0. `channels` interleaved uint8.
std::vector<std::uint8_t> crop_square(const std::vector<std::uint8_t>& image, int width, int height, int channels,
                                      const Roi& roi, const std::array<std::uint8_t, 3>& fill, int& side);

// The network input: the grey-padded square (crop_square) resized to size x size as PIL does, then CHW float
// (x / 255 - mean) / std. Colour jitter (train only) is the caller's, between crop and resize as in the original.
std::vector<float> normalise_crop(const std::vector<std::uint8_t>& square_rgb, int side, int size = 224,
                                  float mean = 0.5f, float std = 0.25f);

// The silhouette targets: a 0/1 plane (mask fill 0, ignore fill 1) cropped square, resized (as 0/255 uint8,
// like the original's PIL round trip) to size x size, returned in [0, 1].
std::vector<float> crop_plane(const std::vector<std::uint8_t>& plane01, int width, int height, const Roi& roi,
                              bool fill_one, int size = 256);

// Everything the original's VKitti.__getitem__ derives for one object of a frame except the colour jitter and
// the final resize of the RGB crop (the jitter acts on the square crop, before resizing to 224).
struct ObjectCrop {
  Roi roi{};                        // tight instance box, jittered when a generator is given
  Targets targets;
  int side = 0;                     // of the square crop
  std::vector<std::uint8_t> rgb;    // side x side x 3, grey-padded: jitter it, then normalise_crop(rgb, side)
  std::vector<float> mask, ignore;  // mask_size^2 in [0, 1]: the silhouette target and the ignore mask
};

// objects[index] of `frame` (its instance pixels are those equal to track id + 1). jitter: the ROI jitter's
// generator in training, nullptr for evaluation. False (and `out` untouched) if the object has no pixels.
bool crop_object(const Frame& frame, size_t index, KeyedRng* jitter, ObjectCrop& out, int mask_size = 256);

}  // namespace sdn::data::derender

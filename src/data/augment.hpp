// Per-sample augmentation of the semantic branch, in the original's order (3D-SDN TrainDataset): colour jitter
// on the full-resolution image with PIL's arithmetic, horizontal flip, resize to the truncated scale with PIL's
// bilinear filter (labels nearest), optional zero padding at the right/bottom. Objects and intrinsics move with
// the pixels. All randomness comes from the KeyedRng the caller derives from (seed, epoch, item index), so the
// result never depends on which rank or thread runs it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "data/pil_ops.hpp"
#include "data/sample.hpp"

namespace sdn::data {

struct AugmentOptions {
  std::vector<int> short_sides = {100, 150, 200, 300, 375};  // empty: keep the size
  int max_long_side = 1274;
  // Pad (never stretch) to a multiple of this at the right/bottom; 1 = no padding. The semantic stage keeps 1:
  // its batch builder pads after normalisation (zeros there, ignored labels), as the original does.
  int pad_to = 1;
  bool flip = true;
  double brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.1;  // torchvision ColorJitter ranges
};

// The original's size rule (pure): scale = min(short / min(w, h), max_long / max(w, h)), each side truncated
// (Python int()) to at least 1, then rounded up to a multiple of `round_up_to`. Training uses round_up_to 1
// (it pads later); evaluation and prediction resize to the rounded-up size, as the original's ValDataset does
// (1242x375 at short side 150: 496x152, not 504).
void scaled_size(int w, int h, int short_side, int max_long_side, int round_up_to, int& out_w, int& out_h);

// Resampling primitives (pure).
// resize_bilinear_rgb: two-tap bilinear with half-pixel centres and no anti-aliasing (what cv2.resize
// INTER_LINEAR computes, up to its 11-bit fixed point): the original's eval/test resize.
std::vector<std::uint8_t> resize_bilinear_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh);
// Nearest neighbour exactly as PIL's NEAREST (the original's label resize): output pixel x takes source pixel
// floor((x + 0.5) * w / ow), with PIL's accumulated rounding.
template <class T>
std::vector<T> resize_nearest(const std::vector<T>& src, int w, int h, int ow, int oh, int channels = 1);
template <class T>
void flip_horizontal(std::vector<T>& plane, int w, int h, int channels = 1);
// Grows a w x h plane to ow x oh (>=) with `fill` at the right and bottom; pixel (x, y) keeps its place.
template <class T>
std::vector<T> pad_bottom_right(const std::vector<T>& src, int w, int h, int ow, int oh, T fill, int channels = 1);

// Object and camera geometry under the pixel operations (pure). Coordinates have pixel centres at integers and
// boxes are inclusive, so pixel x covers [x - 0.5, x + 0.5]:
// - resize w x h -> ow x oh (sx = ow / w): u' = (u + 0.5) sx - 0.5, so left' = left sx, right' = (right + 1) sx - 1,
//   fx' = fx sx, cx' = (cx + 0.5) sx - 0.5 (same for y);
// - flip of a w-wide image: left' = w - 1 - right, right' = w - 1 - left, cx' = w - 1 - cx. The scene is mirrored
//   in x, so x3d' = -x3d (the 3D box then projects onto the mirrored box with the mirrored K), and a heading
//   mirrors to ry' = pi - ry, alpha' = pi - alpha (wrapped to [-pi, pi)): the car's front stays its front.
//   Plain negation (-ry) would give the same box outline but a car facing the other way;
// - padding at the right/bottom changes nothing.
void resize_geometry(std::vector<ObjectGT>& objects, Intrinsics& K, int w, int h, int ow, int oh);
void flip_geometry(std::vector<ObjectGT>& objects, Intrinsics& K, int w);

// Draws every random decision from `rng` (short side, flip, jitter factors, jitter order: a fixed draw order)
// and applies them to all planes present in `s`, and to its objects and intrinsics: jitter (full resolution),
// flip, resize, pad.
void augment(Sample& s, const AugmentOptions& options, KeyedRng& rng);

}  // namespace sdn::data

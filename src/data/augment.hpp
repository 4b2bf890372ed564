// Per-sample augmentation of the semantic branch (3D-SDN / CSAIL recipe): random short side from a list with
// a cap on the long side, horizontal flip, colour jitter. All randomness comes from the KeyedRng the caller
// derives from (seed, epoch, sample index), so the result never depends on which rank or thread runs it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "data/sample.hpp"

namespace sdn::data {

struct AugmentOptions {
  std::vector<int> short_sides = {100, 150, 200, 300, 375};  // empty: keep the size
  int max_long_side = 1274;
  int round_up_to = 8;   // output sides rounded up to a multiple of this (the original's padding constant)
  bool flip = true;
  double brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.1;  // torchvision ColorJitter ranges
};

// The size an image of w x h gets for a drawn short side (pure; the original's scale rule).
void scaled_size(int w, int h, int short_side, int max_long_side, int round_up_to, int& out_w, int& out_h);

// Resampling primitives (pure). RGB uses bilinear with half-pixel centres; label planes use nearest.
std::vector<std::uint8_t> resize_bilinear_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh);
template <class T>
std::vector<T> resize_nearest(const std::vector<T>& src, int w, int h, int ow, int oh, int channels = 1);
template <class T>
void flip_horizontal(std::vector<T>& plane, int w, int h, int channels = 1);

// Colour jitter with given factors (brightness/contrast/saturation multiplicative around 1, hue shift in
// [-0.5, 0.5] turns), applied in `order` (a permutation of 0..3: b, c, s, h), as torchvision does.
void color_jitter(std::vector<std::uint8_t>& rgb, double brightness, double contrast, double saturation, double hue,
                  const int order[4]);

// Draws every random decision from `rng` and applies them to all planes present in `s`.
// Resizing happens first (cheapest on the small image), then the flip, then the colour jitter.
void augment(Sample& s, const AugmentOptions& options, KeyedRng& rng);

}  // namespace sdn::data

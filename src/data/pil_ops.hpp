// Transcriptions of the PIL operations the original applies to RGB: Image.resize with BILINEAR (semantic,
// through scipy's imresize) or BICUBIC (textural), and torchvision 0.2's ColorJitter (PIL ImageEnhance + HSV
// hue shift).
// Pure, integer/float arithmetic as PIL's C code does it (Resample.c, Blend.c, Convert.c), so the outputs are
// PIL's, byte for byte (test_data_pil compares with the installed Pillow; docs/fidelity.md has the versions).
#pragma once

#include <cstdint>
#include <vector>

namespace sdn::data {

// PIL's Image.resize(BILINEAR) on packed RGB (ImagingResample): a triangle filter whose support widens to the
// scale factor when downscaling (so every source pixel contributes), coefficients in 22-bit fixed point, the
// horizontal pass into an 8-bit image first, then the vertical pass.
std::vector<std::uint8_t> resize_pil_bilinear_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh);
// The same with PIL's BICUBIC filter (a = -0.5, support 2 x the scale when downscaling): the textural
// branch's scale_width of the real image (torchvision's default interpolation there).
std::vector<std::uint8_t> resize_pil_bicubic_rgb(const std::vector<std::uint8_t>& src, int w, int h, int ow, int oh);

// PIL's RGB -> "L" conversion changed in Pillow 7.0 (PR #4320): before, (299 R + 587 G + 114 B) / 1000 truncated;
// since, (19595 R + 38470 G + 7471 B + 2^15) >> 16 (rounded). The original ran Pillow 5.0.0, so kPillow5 is the
// default; kPillow7 exists to compare the rest of the arithmetic with a current Pillow.
enum class PilLuma { kPillow5, kPillow7 };

// Colour jitter with given factors, applied in `order` (a permutation of 0..3: brightness, contrast, saturation,
// hue), as torchvision 0.2's ColorJitter does through PIL:
// - brightness, contrast, saturation: Image.blend(degenerate, img, f) = d + f (v - d) in float32, truncated to
//   uint8 and clipped; d = 0 (brightness), the rounded mean of the whole image's "L" values (contrast), the
//   pixel's own "L" value (saturation), "L" as `luma` says;
// - hue: PIL's 8-bit RGB -> HSV, H += uint8(hue * 255) modulo 256 (numpy's wrap), HSV -> RGB.
// Factors 1, 1, 1 and hue exactly 0 are the identity (PIL returns copies for alpha 1; torchvision adds no hue
// step for a hue range of 0). Any other hue factor round-trips through HSV, which is lossy by itself.
void color_jitter(std::vector<std::uint8_t>& rgb, double brightness, double contrast, double saturation, double hue,
                  const int order[4], PilLuma luma = PilLuma::kPillow5);

}  // namespace sdn::data

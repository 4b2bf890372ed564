// PNG and JPEG codecs for the vKITTI modalities: 8-bit RGB PNG (1.3.1 rgb, scenegt, 2.0.3 classgt), 16-bit grey
// PNG (depth, cm), 8-bit palettised PNG read as raw indices (2.0.3 instancegt) and RGB JPEG (2.0.3 rgb).
// Every failure is an sdn::Error that names the file and says what is wrong (missing, not a PNG/JPEG, truncated
// or corrupt, wrong colour type or bit depth); a truncated JPEG is an error, never a grey-filled image.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdn::data::img {

// Interleaved 8-bit pixels, row-major, `channels` per pixel (3 for RGB, 1 for indices).
struct Image8 {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

// 16-bit grey pixels in host byte order, row-major.
struct Image16 {
  int width = 0, height = 0;
  std::vector<std::uint16_t> pixels;
};

struct ImageSize {
  int width = 0, height = 0;
};

using Palette = std::vector<std::array<std::uint8_t, 3>>;

Image8 read_png_rgb8(const std::string& path);    // colour type RGB, 8 bits per channel
Image16 read_png_gray16(const std::string& path);  // colour type grey, 16 bits
// Palettised (1, 2, 4 or 8 bits, unpacked to one byte) or 8-bit grey: the raw stored values, palette ignored.
Image8 read_png_indices(const std::string& path);
Image8 read_jpeg_rgb(const std::string& path);     // any JPEG libjpeg can convert to RGB
// Width and height from the header of a PNG or JPEG (told apart by their signatures); reads no pixels.
ImageSize read_image_size(const std::string& path);

// Writers fail with an Error naming the path; a partly written file is removed.
void write_png_rgb8(const std::string& path, const Image8& image);
void write_png_gray16(const std::string& path, const Image16& image);
void write_png_palette(const std::string& path, const Image8& indices, const Palette& palette);
void write_jpeg_rgb(const std::string& path, const Image8& image, int quality = 95);

}  // namespace sdn::data::img

// PNG half of the codecs (see image_io.hpp) and the header-only size probe; JPEG is in image_jpeg.cpp.
// libpng reports errors by longjmp: each function that calls into libpng and may jump (the "stages" below)
// holds only trivially destructible locals, every buffer is allocated by its caller, and the libpng structs
// and FILE* are owned by RAII objects one frame up, so a jump never skips a destructor or leaks a handle.
#include "data/image_io.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "data/image_file.hpp"

namespace sdn::data::img {
namespace {

constexpr int kPngCompression = 3;  // zlib level: fast to write; readers do not care about the level

struct PngError {
  char message[512] = {0};
};

void on_png_error(png_structp png, png_const_charp msg) {
  auto* e = static_cast<PngError*>(png_get_error_ptr(png));
  std::snprintf(e->message, sizeof e->message, "%s", msg ? msg : "unknown error");
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // ancillary-chunk problems do not change the pixels

// Replaces libpng's stdio reader, whose only message for a short file is "Read Error".
void read_from_file(png_structp png, png_bytep data, size_t length) {
  auto* file = static_cast<FILE*>(png_get_io_ptr(png));
  if (std::fread(data, 1, length, file) != length)
    png_error(png, std::ferror(file) ? "I/O error while reading" : "the file ends early (truncated)");
}

const char* color_type_name(int type) {
  switch (type) {
    case PNG_COLOR_TYPE_GRAY: return "grey";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_PALETTE: return "palettised";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "unknown-colour-type";
  }
}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  size_t rowbytes = 0;
};

// Owns the read structs and the file.
class PngReader {
 public:
  explicit PngReader(const std::string& path) : path_(path), file_(path, "rb") {
    unsigned char sig[8] = {0};
    size_t n = std::fread(sig, 1, sizeof sig, file_.get());
    if (n < sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0)
      throw Error(path + ": not a PNG file (" + (n < sizeof sig ? "shorter than the 8-byte signature" : "bad signature") +
                      ")",
                  "the file is truncated or of another format; re-extract or regenerate it");
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error_, on_png_error, on_png_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) {  // the destructor does not run for a half-built object
      png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr);
      throw Error(path + ": libpng could not allocate its read structures (out of memory?)");
    }
  }
  ~PngReader() { png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;

  png_structp png() { return png_; }
  png_infop info() { return info_; }
  FILE* file() { return file_.get(); }
  [[noreturn]] void fail() const {
    throw Error(path_ + ": corrupt or truncated PNG (libpng: " + error_.message + ")",
                "re-extract or regenerate this file");
  }

 private:
  std::string path_;
  File file_;
  PngError error_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// Stage 1: header. No non-trivial locals (libpng may longjmp out of here).
bool png_stage_header(png_structp png, png_infop info, FILE* file, PngHeader* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, file, read_from_file);
  png_set_sig_bytes(png, 8);
  png_set_benign_errors(png, 0);  // "too much image data" and friends are corruption, not warnings
  png_read_info(png, info);
  png_get_IHDR(png, info, &out->width, &out->height, &out->bit_depth, &out->color_type, nullptr, nullptr, nullptr);
  return true;
}

// Stage 2: transforms to one byte per index / host-order 16 bits, then the row size after them.
bool png_stage_transforms(png_structp png, png_infop info, PngHeader* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  if (header->bit_depth < 8) png_set_packing(png);
  if (header->bit_depth == 16) {
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    if (first == 1) png_set_swap(png);  // PNG stores big-endian samples
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->rowbytes = png_get_rowbytes(png, info);
  return true;
}

// Stage 3: pixels and the chunks after them (png_read_end catches a file cut after the last IDAT).
bool png_stage_rows(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

enum class PngKind { kRgb8, kGray16, kIndices };

// Decodes `path` into `data` (already typed by the caller) after checking the colour type and bit depth.
template <class Pixel>
void decode_png(const std::string& path, PngKind kind, int& width, int& height, int channels,
                std::vector<Pixel>& data) {
  PngReader r(path);
  PngHeader h;
  if (!png_stage_header(r.png(), r.info(), r.file(), &h)) r.fail();
  bool ok = false;
  const char* expected = "";
  switch (kind) {
    case PngKind::kRgb8:
      ok = h.color_type == PNG_COLOR_TYPE_RGB && h.bit_depth == 8;
      expected = "an 8-bit RGB PNG";
      break;
    case PngKind::kGray16:
      ok = h.color_type == PNG_COLOR_TYPE_GRAY && h.bit_depth == 16;
      expected = "a 16-bit grey PNG (depth in cm)";
      break;
    case PngKind::kIndices:
      ok = h.color_type == PNG_COLOR_TYPE_PALETTE || (h.color_type == PNG_COLOR_TYPE_GRAY && h.bit_depth == 8);
      expected = "a palettised (or 8-bit grey) PNG of instance ids";
      break;
  }
  if (!ok)
    throw Error(path + ": expected " + expected + ", found a " + std::to_string(h.bit_depth) + "-bit " +
                    color_type_name(h.color_type) + " PNG",
                "this file belongs to another modality or was re-encoded; use the original file");
  if (!png_stage_transforms(r.png(), r.info(), &h)) r.fail();
  const size_t row_pixels = static_cast<size_t>(h.width) * channels;
  if (h.rowbytes != row_pixels * sizeof(Pixel))
    throw Error(path + ": unexpected PNG row size " + std::to_string(h.rowbytes) + " bytes for " +
                std::to_string(h.width) + " pixels");
  data.assign(row_pixels * h.height, Pixel{});
  std::vector<png_bytep> rows(h.height);
  for (png_uint_32 y = 0; y < h.height; ++y) rows[y] = reinterpret_cast<png_bytep>(data.data() + y * row_pixels);
  if (!png_stage_rows(r.png(), r.info(), rows.data())) r.fail();
  width = static_cast<int>(h.width);
  height = static_cast<int>(h.height);
}

// Owns the write structs and the file; removes a partly written file unless commit() was reached.
class PngWriter {
 public:
  explicit PngWriter(const std::string& path) : path_(path), file_(path, "wb") {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error_, on_png_error, on_png_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) {  // the destructor does not run for a half-built object
      png_destroy_write_struct(&png_, info_ ? &info_ : nullptr);
      file_.close_quietly();
      std::remove(path.c_str());
      throw Error(path + ": libpng could not allocate its write structures (out of memory?)");
    }
  }
  ~PngWriter() {
    png_destroy_write_struct(&png_, info_ ? &info_ : nullptr);
    if (!committed_) {
      file_.close_quietly();
      std::remove(path_.c_str());
    }
  }
  PngWriter(const PngWriter&) = delete;
  PngWriter& operator=(const PngWriter&) = delete;

  png_structp png() { return png_; }
  png_infop info() { return info_; }
  FILE* file() { return file_.get(); }
  [[noreturn]] void fail() const { throw Error(path_ + ": cannot write PNG (libpng: " + error_.message + ")"); }
  void commit() {
    file_.close_checked();
    committed_ = true;
  }

 private:
  std::string path_;
  File file_;
  PngError error_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
  bool committed_ = false;
};

struct PngWriteSpec {
  int width, height, bit_depth, color_type;
  const png_color* palette;
  int palette_size;
};

bool png_stage_write(png_structp png, png_infop info, FILE* file, const PngWriteSpec* spec, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, file);
  png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (spec->palette) png_set_PLTE(png, info, spec->palette, spec->palette_size);
  png_set_compression_level(png, kPngCompression);
  png_write_info(png, info);
  if (spec->bit_depth == 16) {
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    if (first == 1) png_set_swap(png);
  }
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

template <class Pixel>
void encode_png(const std::string& path, const PngWriteSpec& spec, int channels, const std::vector<Pixel>& data) {
  const size_t row_pixels = static_cast<size_t>(spec.width) * channels;
  if (spec.width <= 0 || spec.height <= 0 || data.size() != row_pixels * spec.height)
    throw Error(path + ": cannot write a " + std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                " PNG from " + std::to_string(data.size()) + " samples");
  PngWriter w(path);
  std::vector<png_bytep> rows(spec.height);
  for (int y = 0; y < spec.height; ++y)
    rows[y] = const_cast<png_bytep>(reinterpret_cast<const png_byte*>(data.data() + y * row_pixels));
  if (!png_stage_write(w.png(), w.info(), w.file(), &spec, rows.data())) w.fail();
  w.commit();
}

}  // namespace

Image8 read_png_rgb8(const std::string& path) {
  Image8 im;
  im.channels = 3;
  decode_png(path, PngKind::kRgb8, im.width, im.height, 3, im.pixels);
  return im;
}

Image16 read_png_gray16(const std::string& path) {
  Image16 im;
  decode_png(path, PngKind::kGray16, im.width, im.height, 1, im.pixels);
  return im;
}

Image8 read_png_indices(const std::string& path) {
  Image8 im;
  im.channels = 1;
  decode_png(path, PngKind::kIndices, im.width, im.height, 1, im.pixels);
  return im;
}

ImageSize read_image_size(const std::string& path) {
  unsigned char sig[8] = {0};
  size_t n = 0;
  {
    File f(path, "rb");
    n = std::fread(sig, 1, sizeof sig, f.get());
  }
  if (n >= 2 && sig[0] == 0xFF && sig[1] == 0xD8) return read_jpeg_size(path);
  PngReader r(path);
  PngHeader h;
  if (!png_stage_header(r.png(), r.info(), r.file(), &h)) r.fail();
  return {static_cast<int>(h.width), static_cast<int>(h.height)};
}

void write_png_rgb8(const std::string& path, const Image8& image) {
  if (image.channels != 3) throw Error(path + ": write_png_rgb8 needs 3 channels, got " + std::to_string(image.channels));
  encode_png(path, PngWriteSpec{image.width, image.height, 8, PNG_COLOR_TYPE_RGB, nullptr, 0}, 3, image.pixels);
}

void write_png_gray16(const std::string& path, const Image16& image) {
  encode_png(path, PngWriteSpec{image.width, image.height, 16, PNG_COLOR_TYPE_GRAY, nullptr, 0}, 1, image.pixels);
}

void write_png_palette(const std::string& path, const Image8& indices, const Palette& palette) {
  if (indices.channels != 1 || palette.empty() || palette.size() > 256)
    throw Error(path + ": a palettised PNG needs 1 channel and 1..256 palette entries");
  for (auto v : indices.pixels)
    if (v >= palette.size())
      throw Error(path + ": index " + std::to_string(v) + " is outside the " + std::to_string(palette.size()) +
                  "-entry palette");
  std::vector<png_color> colors(palette.size());
  for (size_t i = 0; i < palette.size(); ++i) colors[i] = {palette[i][0], palette[i][1], palette[i][2]};
  encode_png(path,
             PngWriteSpec{indices.width, indices.height, 8, PNG_COLOR_TYPE_PALETTE, colors.data(),
                          static_cast<int>(colors.size())},
             1, indices.pixels);
}

}  // namespace sdn::data::img

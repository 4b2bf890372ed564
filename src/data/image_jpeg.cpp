// JPEG half of the codecs (see image_io.hpp) and the shared File handle. libjpeg reports fatal errors through
// error_exit (we longjmp out of it, with the same "stages hold only trivial locals" rule as for libpng) and
// corrupt data through warnings after which it keeps going and fills the image with grey: every warning is
// therefore turned into an error, so a truncated JPEG never becomes a silently zeroed sample.
#include <cerrno>
#include <csetjmp>
#include <cstdio>  // before jpeglib.h, which uses FILE and size_t without including their headers
#include <cstring>

#include <jpeglib.h>

#include "core/error.hpp"
#include "data/image_file.hpp"
#include "data/image_io.hpp"

namespace sdn::data::img {

File::File(const std::string& path, const char* mode) : path_(path) {
  file_ = std::fopen(path.c_str(), mode);
  if (!file_) {
    const bool reading = mode[0] == 'r';
    throw Error(path + ": cannot open " + (reading ? "for reading" : "for writing") + " (" + std::strerror(errno) + ")",
                reading ? "check that the dataset is complete (all archives extracted) and the path is right"
                        : "check that the output directory exists and is writable");
  }
}

File::~File() { close_quietly(); }

void File::close_quietly() {
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

void File::close_checked() {
  if (!file_) return;
  const bool bad = std::ferror(file_) != 0;
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (bad || rc != 0)
    throw Error(path_ + ": write failed (" + std::strerror(errno) + ")", "check free space and permissions");
}

namespace {

// error_mgr must come first: libjpeg hands back a pointer to it and we cast to the whole struct.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
  char first_warning[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegError*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

void on_jpeg_message(j_common_ptr c, int level) {
  if (level >= 0) return;  // trace messages
  auto* e = reinterpret_cast<JpegError*>(c->err);
  if (e->warnings++ == 0) (*c->err->format_message)(c, e->first_warning);
}

JpegError* init_error(JpegError* e) {
  std::memset(e, 0, sizeof *e);
  jpeg_std_error(&e->mgr);
  e->mgr.error_exit = on_jpeg_error;
  e->mgr.emit_message = on_jpeg_message;
  return e;
}

// Owns the decompressor and the file.
class JpegReader {
 public:
  explicit JpegReader(const std::string& path) : path_(path), file_(path, "rb") {
    cinfo_.err = &init_error(&error_)->mgr;
  }
  ~JpegReader() {
    if (created_) jpeg_destroy_decompress(&cinfo_);
  }
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;

  [[noreturn]] void fail(const char* what) const {
    throw Error(path_ + ": corrupt or truncated JPEG (libjpeg: " + what + ")", "re-extract or regenerate this file");
  }
  void check_warnings() const {
    if (error_.warnings > 0) fail(error_.first_warning);
  }
  const char* message() const { return error_.message; }

  jpeg_decompress_struct cinfo_{};
  JpegError error_;
  bool created_ = false;
  std::string path_;
  File file_;
};

bool jpeg_stage_header(JpegReader* r, bool start) {
  if (setjmp(r->error_.jump)) return false;
  jpeg_create_decompress(&r->cinfo_);
  r->created_ = true;
  jpeg_stdio_src(&r->cinfo_, r->file_.get());
  jpeg_read_header(&r->cinfo_, TRUE);
  if (start) {
    r->cinfo_.out_color_space = JCS_RGB;
    jpeg_start_decompress(&r->cinfo_);
  }
  return true;
}

bool jpeg_stage_rows(JpegReader* r, unsigned char* pixels, size_t stride) {
  if (setjmp(r->error_.jump)) return false;
  while (r->cinfo_.output_scanline < r->cinfo_.output_height) {
    JSAMPROW row = pixels + r->cinfo_.output_scanline * stride;
    jpeg_read_scanlines(&r->cinfo_, &row, 1);
  }
  jpeg_finish_decompress(&r->cinfo_);
  return true;
}

// Owns the compressor; removes a partly written file unless the write completed.
class JpegWriter {
 public:
  explicit JpegWriter(const std::string& path) : path_(path), file_(path, "wb") {
    cinfo_.err = &init_error(&error_)->mgr;
  }
  ~JpegWriter() {
    if (created_) jpeg_destroy_compress(&cinfo_);
    if (!committed_) {
      file_.close_quietly();
      std::remove(path_.c_str());
    }
  }
  JpegWriter(const JpegWriter&) = delete;
  JpegWriter& operator=(const JpegWriter&) = delete;

  jpeg_compress_struct cinfo_{};
  JpegError error_;
  bool created_ = false;
  bool committed_ = false;
  std::string path_;
  File file_;
};

struct JpegWriteSpec {
  int width, height, quality;
  const unsigned char* pixels;
};

bool jpeg_stage_write(JpegWriter* w, const JpegWriteSpec* spec) {
  if (setjmp(w->error_.jump)) return false;
  jpeg_create_compress(&w->cinfo_);
  w->created_ = true;
  jpeg_stdio_dest(&w->cinfo_, w->file_.get());
  w->cinfo_.image_width = static_cast<JDIMENSION>(spec->width);
  w->cinfo_.image_height = static_cast<JDIMENSION>(spec->height);
  w->cinfo_.input_components = 3;
  w->cinfo_.in_color_space = JCS_RGB;
  jpeg_set_defaults(&w->cinfo_);
  jpeg_set_quality(&w->cinfo_, spec->quality, TRUE);
  jpeg_start_compress(&w->cinfo_, TRUE);
  const size_t stride = static_cast<size_t>(spec->width) * 3;
  while (w->cinfo_.next_scanline < w->cinfo_.image_height) {
    JSAMPROW row = const_cast<unsigned char*>(spec->pixels + w->cinfo_.next_scanline * stride);
    jpeg_write_scanlines(&w->cinfo_, &row, 1);
  }
  jpeg_finish_compress(&w->cinfo_);
  return true;
}

}  // namespace

ImageSize read_jpeg_size(const std::string& path) {
  JpegReader r(path);
  if (!jpeg_stage_header(&r, /*start=*/false)) r.fail(r.message());
  return {static_cast<int>(r.cinfo_.image_width), static_cast<int>(r.cinfo_.image_height)};
}

Image8 read_jpeg_rgb(const std::string& path) {
  JpegReader r(path);
  if (!jpeg_stage_header(&r, /*start=*/true)) r.fail(r.message());
  r.check_warnings();
  if (r.cinfo_.output_components != 3)
    throw Error(path + ": JPEG decodes to " + std::to_string(r.cinfo_.output_components) +
                " components, expected RGB");
  Image8 im;
  im.width = static_cast<int>(r.cinfo_.output_width);
  im.height = static_cast<int>(r.cinfo_.output_height);
  im.channels = 3;
  im.pixels.assign(static_cast<size_t>(im.width) * im.height * 3, 0);
  if (!jpeg_stage_rows(&r, im.pixels.data(), static_cast<size_t>(im.width) * 3)) r.fail(r.message());
  r.check_warnings();
  return im;
}

void write_jpeg_rgb(const std::string& path, const Image8& image, int quality) {
  if (image.channels != 3 || image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw Error(path + ": cannot write a JPEG from a " + std::to_string(image.width) + "x" +
                std::to_string(image.height) + "x" + std::to_string(image.channels) + " image");
  JpegWriter w(path);
  JpegWriteSpec spec{image.width, image.height, quality, image.pixels.data()};
  if (!jpeg_stage_write(&w, &spec)) throw Error(path + ": cannot write JPEG (libjpeg: " + w.error_.message + ")");
  w.file_.close_checked();
  w.committed_ = true;
}

}  // namespace sdn::data::img

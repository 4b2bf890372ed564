// Image codecs: round trips of every type the layouts use, header-only size probes, and one clear error (file
// name and what is wrong) for missing, empty, foreign, truncated and corrupt files and for a wrong bit depth.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/image_io.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
namespace dt = sdn::data::testing;

namespace {

img::Image8 gradient_rgb(int w, int h) {
  img::Image8 im{w, h, 3, std::vector<std::uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = &im.pixels[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<std::uint8_t>(x * 4), p[1] = static_cast<std::uint8_t>(y * 8),
      p[2] = static_cast<std::uint8_t>(x + y);
    }
  return im;
}

}  // namespace

TEST(DataImageIo, RoundTripsOfEveryType) {
  dt::TempDir dir;
  const img::Image8 rgb = gradient_rgb(50, 20);
  img::write_png_rgb8(dir.path() + "/rgb.png", rgb);
  const img::Image8 back = img::read_png_rgb8(dir.path() + "/rgb.png");
  EXPECT_EQ(back.width, 50);
  EXPECT_EQ(back.height, 20);
  EXPECT_EQ(back.channels, 3);
  EXPECT_TRUE(back.pixels == rgb.pixels);

  img::Image16 depth{7, 3, {0, 1, 255, 256, 1234, 65534, 65535, 100, 200, 300, 400, 500, 600, 700,
                            800, 900, 1000, 1100, 1200, 1300, 1400}};
  img::write_png_gray16(dir.path() + "/d.png", depth);
  EXPECT_TRUE(img::read_png_gray16(dir.path() + "/d.png").pixels == depth.pixels);

  img::Image8 idx{16, 16, 1, std::vector<std::uint8_t>(256)};
  for (int i = 0; i < 256; ++i) idx.pixels[i] = static_cast<std::uint8_t>(i);
  img::Palette palette(256, {9, 9, 9});  // the colours are irrelevant: readers want the indices
  img::write_png_palette(dir.path() + "/i.png", idx, palette);
  EXPECT_TRUE(img::read_png_indices(dir.path() + "/i.png").pixels == idx.pixels);

  img::write_jpeg_rgb(dir.path() + "/x.jpg", rgb, 95);
  const img::Image8 jpg = img::read_jpeg_rgb(dir.path() + "/x.jpg");
  ASSERT_EQ(jpg.pixels.size(), rgb.pixels.size());
  double err = 0;
  for (size_t i = 0; i < jpg.pixels.size(); ++i) err += std::abs(int(jpg.pixels[i]) - int(rgb.pixels[i]));
  EXPECT_LT(err / jpg.pixels.size(), 6.0);

  EXPECT_EQ(img::read_image_size(dir.path() + "/x.jpg").width, 50);
  EXPECT_EQ(img::read_image_size(dir.path() + "/d.png").height, 3);
}

TEST(DataImageIo, WrongColourTypeOrBitDepthIsNamed) {
  dt::TempDir dir;
  img::write_png_rgb8(dir.path() + "/rgb.png", gradient_rgb(8, 8));
  const std::string e16 = dt::error_of([&] { img::read_png_gray16(dir.path() + "/rgb.png"); });
  EXPECT_NE(e16.find(dir.path() + "/rgb.png: expected a 16-bit grey PNG (depth in cm), found a 8-bit RGB PNG"),
            std::string::npos) << e16;
  img::write_png_gray16(dir.path() + "/d.png", {2, 1, {1, 2}});
  const std::string e8 = dt::error_of([&] { img::read_png_rgb8(dir.path() + "/d.png"); });
  EXPECT_NE(e8.find("expected an 8-bit RGB PNG, found a 16-bit grey PNG"), std::string::npos) << e8;
  const std::string ei = dt::error_of([&] { img::read_png_indices(dir.path() + "/rgb.png"); });
  EXPECT_NE(ei.find("expected a palettised (or 8-bit grey) PNG of instance ids, found a 8-bit RGB PNG"),
            std::string::npos) << ei;
}

TEST(DataImageIo, MissingEmptyAndForeignFiles) {
  dt::TempDir dir;
  const std::string missing = dt::error_of([&] { img::read_png_rgb8(dir.path() + "/none.png"); });
  EXPECT_NE(missing.find(dir.path() + "/none.png: cannot open for reading (No such file or directory)"),
            std::string::npos) << missing;
  dt::write_text(dir.path() + "/empty.png", "");
  EXPECT_NE(dt::error_of([&] { img::read_png_rgb8(dir.path() + "/empty.png"); })
                .find("empty.png: not a PNG file (shorter than the 8-byte signature)"),
            std::string::npos);
  dt::write_text(dir.path() + "/text.png", "this is not an image at all");
  EXPECT_NE(dt::error_of([&] { img::read_png_rgb8(dir.path() + "/text.png"); }).find("text.png: not a PNG file (bad signature)"),
            std::string::npos);
  dt::write_text(dir.path() + "/text.jpg", "this is not an image at all");
  const std::string jpg = dt::error_of([&] { img::read_jpeg_rgb(dir.path() + "/text.jpg"); });
  EXPECT_NE(jpg.find("text.jpg: corrupt or truncated JPEG (libjpeg: Not a JPEG file"), std::string::npos) << jpg;
  dt::write_text(dir.path() + "/empty.jpg", "");
  EXPECT_NE(dt::error_of([&] { img::read_jpeg_rgb(dir.path() + "/empty.jpg"); }).find("empty.jpg: corrupt or truncated JPEG"),
            std::string::npos);
}

TEST(DataImageIo, TruncatedAndCorruptFilesAreErrorsNeverPartialImages) {
  dt::TempDir dir;
  const img::Image8 rgb = gradient_rgb(120, 60);
  for (double keep : {0.9, 0.5, 0.1}) {
    const std::string png = dir.path() + "/t.png", jpg = dir.path() + "/t.jpg";
    img::write_png_rgb8(png, rgb);
    img::write_jpeg_rgb(jpg, rgb);
    dt::truncate_to(png, keep);
    dt::truncate_to(jpg, keep);
    const std::string ep = dt::error_of([&] { img::read_png_rgb8(png); });
    EXPECT_NE(ep.find(png + ": corrupt or truncated PNG (libpng: the file ends early (truncated))"), std::string::npos)
        << keep << ": " << ep;
    const std::string ej = dt::error_of([&] { img::read_jpeg_rgb(jpg); });
    EXPECT_NE(ej.find(jpg + ": corrupt or truncated JPEG (libjpeg: "), std::string::npos) << keep << ": " << ej;
  }
  const std::string png = dir.path() + "/c.png";
  img::write_png_rgb8(png, rgb);
  dt::flip_bytes(png, 0.5, 16);
  const std::string ec = dt::error_of([&] { img::read_png_rgb8(png); });
  EXPECT_NE(ec.find(png + ": corrupt or truncated PNG"), std::string::npos) << ec;
  // JPEG has no checksum: flipped entropy-coded bits can decode to wrong pixels unnoticed. What libjpeg can
  // see (here: a stray marker inside the scan) must be an error, not a warning and a half-grey image.
  const std::string jpg = dir.path() + "/c.jpg";
  img::write_jpeg_rgb(jpg, rgb);
  std::string bytes = dt::read_text(jpg);
  for (size_t i = bytes.size() * 6 / 10, k = 0; k < 8; ++k) bytes[i + 2 * k] = '\xFF', bytes[i + 2 * k + 1] = '\xD5';
  dt::write_text(jpg, bytes);
  const std::string ecj = dt::error_of([&] { img::read_jpeg_rgb(jpg); });
  EXPECT_NE(ecj.find(jpg + ": corrupt or truncated JPEG"), std::string::npos) << ecj;
}

TEST(DataImageIo, WritersNameThePathAndLeaveNoPartialFile) {
  dt::TempDir dir;
  const std::string bad = dir.path() + "/no/such/dir/x.png";
  const std::string e = dt::error_of([&] { img::write_png_rgb8(bad, gradient_rgb(4, 4)); });
  EXPECT_NE(e.find(bad + ": cannot open for writing"), std::string::npos) << e;
  const std::string shape = dt::error_of([&] { img::write_png_rgb8(dir.path() + "/s.png", {4, 4, 3, {1, 2, 3}}); });
  EXPECT_NE(shape.find("cannot write a 4x4 PNG from 3 samples"), std::string::npos) << shape;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/s.png"));
  const std::string pal = dt::error_of([&] { img::write_png_palette(dir.path() + "/p.png", {1, 1, 1, {5}}, {{0, 0, 0}}); });
  EXPECT_NE(pal.find("index 5 is outside the 1-entry palette"), std::string::npos) << pal;
}

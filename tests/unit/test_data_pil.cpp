// The PIL transcriptions (data/pil_ops.hpp, resize_nearest) against Pillow itself, byte for byte: bilinear
// resizes down and up (including the original's 1242x375 -> 496x150), nearest label resizes, and colour jitter
// with random factors and orders (with Pillow >= 7's "L", the installed one), on random and smooth images. Runs bench/pil_reference.py with /usr/bin/python3; skipped where Pillow is not installed
// (Debian: python3-pil). Tolerance: none, every byte must match.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/rng.hpp"
#include "data/augment.hpp"
#include "data/pil_ops.hpp"

using namespace sdn;
using namespace sdn::data;

namespace {

bool python_has_pil() {
  static const bool has = std::system("/usr/bin/python3 -c 'import PIL, numpy' >/dev/null 2>&1") == 0;
  return has;
}

std::string source_dir() {
  const char* s = std::getenv("SDN_SOURCE_DIR");
  return s ? s : ".";
}

std::string temp(const std::string& name) { return (std::filesystem::path(::testing::TempDir()) / name).string(); }

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& v) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Half noise, half smooth gradients with saturated and grey regions, so every jitter branch (clipping, grey
// pixels with s = 0, every hue sector) is exercised.
std::vector<std::uint8_t> test_image(int w, int h, std::uint64_t seed) {
  KeyedRng rng(seed);
  std::vector<std::uint8_t> v(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const size_t i = (static_cast<size_t>(y) * w + x) * 3 + c;
        if (y < h / 2)
          v[i] = static_cast<std::uint8_t>(rng.below(256));
        else if (x < w / 4)
          v[i] = static_cast<std::uint8_t>(255 * x / std::max(1, w / 4 - 1));  // grey ramp
        else
          v[i] = static_cast<std::uint8_t>((x * (c + 1) * 7 + y * (3 - c) * 5) % 256);
      }
  return v;
}

std::vector<std::uint8_t> pil(const std::string& args) {
  const std::string out = temp("pil_out.bin");
  std::filesystem::remove(out);
  const std::string cmd = "/usr/bin/python3 " + source_dir() + "/bench/pil_reference.py " + args + " " + out;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return read_bytes(out);
}

}  // namespace

TEST(Pil, BilinearResizeIsBytewiseIdentical) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 lacks PIL (apt-get install python3-pil)";
  struct Case {
    int w, h, ow, oh;
  } cases[] = {{1242, 375, 496, 150}, {311, 94, 124, 37}, {97, 31, 200, 65}, {64, 48, 64, 20}, {50, 40, 17, 40}, {9, 7, 4, 3}};
  for (const Case& c : cases) {
    const auto img = test_image(c.w, c.h, static_cast<std::uint64_t>(c.w * 131 + c.ow));
    write_bytes(temp("pil_in.bin"), img);
    const auto want = pil("resize " + temp("pil_in.bin") + " " + std::to_string(c.w) + " " + std::to_string(c.h) + " " +
                          std::to_string(c.ow) + " " + std::to_string(c.oh));
    const auto got = resize_pil_bilinear_rgb(img, c.w, c.h, c.ow, c.oh);
    ASSERT_EQ(got.size(), want.size());
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != want[i];
    EXPECT_EQ(diff, 0u) << c.w << "x" << c.h << " -> " << c.ow << "x" << c.oh;
  }
}

TEST(Pil, BicubicResizeIsBytewiseIdentical) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 lacks PIL (apt-get install python3-pil)";
  struct Case {
    int w, h, ow, oh;
  } cases[] = {{1242, 375, 800, 241}, {160, 48, 128, 38}, {97, 31, 200, 65}, {50, 40, 17, 40}, {9, 7, 4, 3}};
  for (const Case& c : cases) {
    const auto img = test_image(c.w, c.h, static_cast<std::uint64_t>(c.w * 137 + c.ow));
    write_bytes(temp("pil_in.bin"), img);
    const auto want = pil("bicubic " + temp("pil_in.bin") + " " + std::to_string(c.w) + " " + std::to_string(c.h) +
                          " " + std::to_string(c.ow) + " " + std::to_string(c.oh));
    const auto got = resize_pil_bicubic_rgb(img, c.w, c.h, c.ow, c.oh);
    ASSERT_EQ(got.size(), want.size());
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != want[i];
    EXPECT_EQ(diff, 0u) << c.w << "x" << c.h << " -> " << c.ow << "x" << c.oh;
  }
}

TEST(Pil, ColorJitterIsBytewiseIdentical) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 lacks PIL (apt-get install python3-pil)";
  const int w = 160, h = 60;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    const auto img = test_image(w, h, seed);
    KeyedRng rng({seed, 77});
    // The original's ranges (0.2, 0.2, 0.2, 0.1), widened on some draws so clipping and wrap-around show up.
    const double wide = seed % 3 == 0 ? 3.0 : 1.0;
    const double b = rng.uniform(1 - 0.2 * wide, 1 + 0.2 * wide), c = rng.uniform(1 - 0.2 * wide, 1 + 0.2 * wide);
    const double s = rng.uniform(1 - 0.2 * wide, 1 + 0.2 * wide), hue = rng.uniform(-0.1 * wide, 0.1 * wide);
    int order[4] = {0, 1, 2, 3};
    for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
    write_bytes(temp("pil_in.bin"), img);
    char args[256];
    std::snprintf(args, sizeof args, "jitter %s %d %d %.17g %.17g %.17g %.17g %d %d %d %d", temp("pil_in.bin").c_str(), w,
                  h, b, c, s, hue, order[0], order[1], order[2], order[3]);
    const auto want = pil(args);
    auto got = img;
    color_jitter(got, b, c, s, hue, order, PilLuma::kPillow7);  // Pillow 9.4 has the rounded "L"
    ASSERT_EQ(got.size(), want.size());
    size_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != want[i];
    EXPECT_EQ(diff, 0u) << args;
  }
}

TEST(Pil, NearestLabelResizeIsBytewiseIdentical) {
  if (!python_has_pil()) GTEST_SKIP() << "/usr/bin/python3 lacks PIL (apt-get install python3-pil)";
  // The original's label sizes (1242x375 at short sides 100..300) and sizes where a plain formula would differ.
  struct Case {
    int w, h, ow, oh;
  } cases[] = {{1242, 375, 993, 300}, {1242, 375, 331, 100}, {1242, 375, 662, 200}, {128, 128, 160, 160}, {97, 31, 50, 13}};
  for (const Case& c : cases) {
    std::vector<std::uint8_t> plane(static_cast<size_t>(c.w) * c.h);
    for (int y = 0; y < c.h; ++y)
      for (int x = 0; x < c.w; ++x) plane[static_cast<size_t>(y) * c.w + x] = static_cast<std::uint8_t>((x * 7 + y * 13) % 251);
    write_bytes(temp("pil_in.bin"), plane);
    const auto want = pil("nearest " + temp("pil_in.bin") + " " + std::to_string(c.w) + " " + std::to_string(c.h) + " " +
                          std::to_string(c.ow) + " " + std::to_string(c.oh));
    EXPECT_EQ(resize_nearest(plane, c.w, c.h, c.ow, c.oh), want) << c.w << "x" << c.h << " -> " << c.ow << "x" << c.oh;
  }
}

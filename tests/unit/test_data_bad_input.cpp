// Bad input to the readers (issue 2 §7), one case each: missing folders and files (named, with the layout that
// expected them), truncated/corrupt images, sizes that disagree, label colours not in the colour table, malformed
// or short text rows, a broken 2.0.3 join; plus the 2.0.3 column order (bbox is l r t b).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/parse.hpp"
#include "data/image_io.hpp"
#include "data/reader.hpp"
#include "data/vkitti_paths.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
namespace dt = sdn::data::testing;
namespace stdfs = std::filesystem;

namespace {

// A fresh tiny tree of `layout` in its own folder.
struct Tree {
  explicit Tree(Layout layout) { write_synthetic(dt::tiny_options(layout, dir.path())); }
  const std::string& root() const { return dir.path(); }
  std::string v1(const char* modality, int frame) const { return paths::v1_image(root(), modality, "0001", "clone", frame); }
  std::string v2(const paths::V2Modality& m, int frame, int camera = 0) const {
    return paths::v2_image(root(), m, "0001", "clone", camera, frame);
  }
  std::string text(const char* file) const { return paths::v2_text(root(), "0001", "clone", file); }
  std::string load_error(int frame, int camera = 0) const {
    return dt::error_of([&] { open_dataset(root())->load({"0001", "clone", frame, camera}); });
  }
  dt::TempDir dir;
};

#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << "expected '" << (part) << "' in:\n" << (text)

}  // namespace

TEST(DataBadInput, NoTreeAtAll) {
  dt::TempDir dir;
  const std::string e = dt::error_of([&] { open_dataset(dir.path()); });
  EXPECT_HAS(e, dir.path() + ": no vKITTI tree found: looked for vkitti_1.3.1_rgb/ (vKITTI 1.3.1) and Scene01/");
  EXPECT_HAS(dt::error_of([&] { open_dataset(dir.path() + "/nope"); }), "/nope: not a directory");
}

TEST(DataBadInput, Vkitti1MissingModalityFolderNamesItAndItsArchive) {
  Tree t(Layout::kVkitti1);
  stdfs::remove_all(t.root() + "/vkitti_1.3.1_depthgt");
  const std::string e = dt::error_of([&] { open_dataset(t.root()); });
  EXPECT_HAS(e, "incomplete vKITTI 1.3.1 tree; missing:");
  EXPECT_HAS(e, t.root() + "/vkitti_1.3.1_depthgt/  (from vkitti_1.3.1_depthgt.tar)");
}

TEST(DataBadInput, Vkitti1MissingSequenceTextFile) {
  Tree t(Layout::kVkitti1);
  stdfs::remove(paths::v1_motgt(t.root(), "0001", "clone"));
  EXPECT_HAS(dt::error_of([&] { open_dataset(t.root()); }),
             "vkitti_1.3.1_motgt/0001_clone.txt  (from vkitti_1.3.1_motgt.tar.gz)");
}

TEST(DataBadInput, Vkitti1MissingFrameFile) {
  Tree t(Layout::kVkitti1);
  stdfs::remove(t.v1(paths::kV1SceneGt, 1));
  const std::string e = t.load_error(1);
  EXPECT_HAS(e, t.v1(paths::kV1SceneGt, 1) + ": missing; the vKITTI 1.3.1 layout keeps the class/instance labels");
  EXPECT_HAS(e, "extract vkitti_1.3.1_scenegt.tar into " + t.root());
  EXPECT_EQ(t.load_error(0), "");  // other frames still load
}

TEST(DataBadInput, Vkitti2MissingTextFileAndCameraFolder) {
  Tree t(Layout::kVkitti2);
  stdfs::remove(t.text("pose.txt"));
  stdfs::remove_all(paths::v2_image_dir(t.root(), paths::kV2Instance, "0001", "clone", 1));
  const std::string e = dt::error_of([&] { open_dataset(t.root()); });
  EXPECT_HAS(e, "incomplete vKITTI 2.0.3 tree; missing:");
  EXPECT_HAS(e, t.text("pose.txt") + "  (from vkitti_2.0.3_textgt.tar.gz)");
  EXPECT_HAS(e, "frames/instanceSegmentation/Camera_1/  (from vkitti_2.0.3_instanceSegmentation.tar)");
}

TEST(DataBadInput, Vkitti2MissingFrameFile) {
  Tree t(Layout::kVkitti2);
  stdfs::remove(t.v2(paths::kV2Depth, 2, 1));
  EXPECT_HAS(t.load_error(2, 1), t.v2(paths::kV2Depth, 2, 1) + ": missing; the vKITTI 2.0.3 layout keeps the depth");
}

TEST(DataBadInput, TruncatedAndCorruptImages) {
  Tree t1(Layout::kVkitti1);
  dt::truncate_to(t1.v1(paths::kV1Rgb, 1), 0.5);
  EXPECT_HAS(t1.load_error(1), t1.v1(paths::kV1Rgb, 1) + ": corrupt or truncated PNG");
  dt::flip_bytes(t1.v1(paths::kV1DepthGt, 2), 0.5, 8);
  EXPECT_HAS(t1.load_error(2), t1.v1(paths::kV1DepthGt, 2) + ": corrupt or truncated PNG");

  Tree t2(Layout::kVkitti2);
  dt::truncate_to(t2.v2(paths::kV2Rgb, 1), 0.7);
  EXPECT_HAS(t2.load_error(1), t2.v2(paths::kV2Rgb, 1) + ": corrupt or truncated JPEG");
  dt::truncate_to(t2.v2(paths::kV2Instance, 2, 1), 0.6);
  EXPECT_HAS(t2.load_error(2, 1), t2.v2(paths::kV2Instance, 2, 1) + ": corrupt or truncated PNG");
}

TEST(DataBadInput, ImageOfTheWrongTypeInAModalityFolder) {
  Tree t(Layout::kVkitti1);
  stdfs::copy_file(t.v1(paths::kV1Rgb, 0), t.v1(paths::kV1DepthGt, 0), stdfs::copy_options::overwrite_existing);
  EXPECT_HAS(t.load_error(0), t.v1(paths::kV1DepthGt, 0) + ": expected a 16-bit grey PNG (depth in cm), found a 8-bit RGB PNG");
}

TEST(DataBadInput, FrameSizeDiffersFromTheSequenceOrTheOtherModalities) {
  Tree t(Layout::kVkitti1);
  const img::Image8 small{80, 24, 3, std::vector<std::uint8_t>(80 * 24 * 3, 9)};
  img::write_png_rgb8(t.v1(paths::kV1Rgb, 2), small);
  EXPECT_HAS(t.load_error(2), t.v1(paths::kV1Rgb, 2) + ": image is 80x24, but the sequence's first frame " +
                                  t.v1(paths::kV1Rgb, 0) + " is 160x48");
  img::write_png_gray16(t.v1(paths::kV1DepthGt, 1), {80, 24, std::vector<std::uint16_t>(80 * 24, 100)});
  EXPECT_HAS(t.load_error(1), t.v1(paths::kV1DepthGt, 1) + ": image is 80x24, but the RGB frame " +
                                  t.v1(paths::kV1Rgb, 1) + " is 160x48");

  Tree t2(Layout::kVkitti2);
  img::write_png_palette(t2.v2(paths::kV2Instance, 0), {160, 47, 1, std::vector<std::uint8_t>(160 * 47, 0)}, {{0, 0, 0}});
  EXPECT_HAS(t2.load_error(0), t2.v2(paths::kV2Instance, 0) + ": image is 160x47, but the RGB frame");
}

TEST(DataBadInput, LabelColourNotInTheEncodingNamesFilePixelAndColour) {
  Tree t(Layout::kVkitti1);
  img::Image8 gt = img::read_png_rgb8(t.v1(paths::kV1SceneGt, 1));
  std::uint8_t* p = &gt.pixels[(7 * 160 + 5) * 3];
  p[0] = 1, p[1] = 2, p[2] = 3;
  img::write_png_rgb8(t.v1(paths::kV1SceneGt, 1), gt);
  EXPECT_HAS(t.load_error(1), t.v1(paths::kV1SceneGt, 1) + ": pixel (x=5, y=7) has colour (1, 2, 3), which is not in " +
                                  paths::v1_encoding(t.root(), "0001", "clone"));

  Tree t2(Layout::kVkitti2);
  img::Image8 cls = img::read_png_rgb8(t2.v2(paths::kV2Class, 0));
  cls.pixels[0] = 7, cls.pixels[1] = 7, cls.pixels[2] = 7;
  img::write_png_rgb8(t2.v2(paths::kV2Class, 0), cls);
  EXPECT_HAS(t2.load_error(0), "pixel (x=0, y=0) has colour (7, 7, 7), which is not in " + t2.text("colors.txt"));
}

TEST(DataBadInput, UndefinedColourIsUnlabelledNotAnError) {
  Tree t(Layout::kVkitti2);
  img::Image8 cls = img::read_png_rgb8(t.v2(paths::kV2Class, 0));
  cls.pixels[3 * 10] = 0, cls.pixels[3 * 10 + 1] = 0, cls.pixels[3 * 10 + 2] = 0;  // "Undefined 0 0 0"
  img::write_png_rgb8(t.v2(paths::kV2Class, 0), cls);
  const Frame f = open_dataset(t.root())->load({"0001", "clone", 0, 0});
  EXPECT_EQ(f.classes[10], kUnlabelled);
  EXPECT_NE(f.classes[11], kUnlabelled);
}

TEST(DataBadInput, MalformedAndShortMotgtRows) {
  Tree t(Layout::kVkitti1);
  const std::string mot = paths::v1_motgt(t.root(), "0001", "clone");
  auto fields = sdn::parse::split_ws(dt::line_of(mot, 2));
  ASSERT_EQ(fields.size(), 25u);  // the documented header names 25 columns
  fields[13] = "abc";             // x3d
  dt::replace_line(mot, 2, sdn::parse::join(fields, " "));
  EXPECT_HAS(t.load_error(0), mot + ":2: column 14 'x3d': 'abc' is not a number");
  fields.resize(21);
  dt::replace_line(mot, 2, sdn::parse::join(fields, " "));
  EXPECT_HAS(t.load_error(0), mot + ":2: 21 fields, expected 25 (frame tid label");
}

TEST(DataBadInput, MalformedEncodingAndBboxRows) {
  Tree t(Layout::kVkitti1);
  const std::string enc = paths::v1_encoding(t.root(), "0001", "clone");
  dt::replace_line(enc, 3, "Sky 90 200");
  EXPECT_HAS(t.load_error(0), enc + ":3: 3 fields, expected 4 (Category(:id) r g b)");

  Tree t2(Layout::kVkitti2);
  auto fields = sdn::parse::split_ws(dt::line_of(t2.text("bbox.txt"), 2));
  fields[10] = "maybe";  // isMoving
  dt::replace_line(t2.text("bbox.txt"), 2, sdn::parse::join(fields, " "));
  EXPECT_HAS(t2.load_error(0), t2.text("bbox.txt") + ":2: column 11 'isMoving': 'maybe' is not a boolean");
}

TEST(DataBadInput, Vkitti2BboxRowWithoutPoseOrInfo) {
  Tree t(Layout::kVkitti2);
  const auto bbox = sdn::parse::split_ws(dt::line_of(t.text("bbox.txt"), 2));
  dt::replace_line(t.text("pose.txt"), 2, "");  // the matching pose row (same order of rows)
  EXPECT_HAS(t.load_error(0), t.text("bbox.txt") + ":2: track " + bbox[2] + " (frame 0, camera 0) has no row in " +
                                  t.text("pose.txt"));
  Tree t2(Layout::kVkitti2);
  dt::write_text(t2.text("info.txt"), "trackID label model color\n");
  EXPECT_HAS(t2.load_error(0), "is not listed in " + t2.text("info.txt"));
  Tree t3(Layout::kVkitti2);
  dt::write_text(t3.text("intrinsic.txt"), "frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]\n");
  EXPECT_HAS(t3.load_error(1), t3.text("intrinsic.txt") + ": no row for frame 1 camera 0");
}

TEST(DataBadInput, Vkitti2BboxIsLeftRightTopBottomAndColumnsGoByName) {
  Tree t(Layout::kVkitti2);
  auto fields = sdn::parse::split_ws(dt::line_of(t.text("bbox.txt"), 2));
  ASSERT_EQ(fields[0], "0");
  const int track = std::stoi(fields[2]);
  fields[3] = "10", fields[4] = "20", fields[5] = "30", fields[6] = "40";  // left right top bottom
  dt::replace_line(t.text("bbox.txt"), 2, sdn::parse::join(fields, " "));
  auto find = [&](const Frame& f) {
    for (const auto& o : f.objects)
      if (o.track_id == track) return o;
    ADD_FAILURE() << "track " << track << " not loaded";
    return ObjectGT{};
  };
  const ObjectGT o = find(open_dataset(t.root())->load({"0001", "clone", 0, 0}));
  EXPECT_EQ(o.left, 10);
  EXPECT_EQ(o.right, 20);
  EXPECT_EQ(o.top, 30);
  EXPECT_EQ(o.bottom, 40);

  // The same table with its columns in another order reads the same.
  const std::string text = dt::read_text(t.text("bbox.txt"));
  std::istringstream in(text);
  std::string line, swapped;
  while (std::getline(in, line)) {
    auto f = sdn::parse::split_ws(line);
    std::swap(f[3], f[6]);
    std::swap(f[0], f[10]);
    swapped += sdn::parse::join(f, " ") + "\n";
  }
  dt::write_text(t.text("bbox.txt"), swapped);
  const ObjectGT p = find(open_dataset(t.root())->load({"0001", "clone", 0, 0}));
  EXPECT_EQ(p.left, 10);
  EXPECT_EQ(p.bottom, 40);
  EXPECT_EQ(p.truncation, o.truncation);
}

TEST(DataBadInput, CameraOneOfAVkitti1Tree) {
  Tree t(Layout::kVkitti1);
  auto reader = open_dataset(t.root());
  EXPECT_THROW(reader->list_frames(1), sdn::UsageError);
  EXPECT_THROW(reader->load({"0001", "clone", 0, 1}), sdn::UsageError);
}

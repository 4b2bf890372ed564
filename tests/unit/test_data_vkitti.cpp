// vKITTI facts and text files: class list and colour mapping, the 3D-SDN split counted over the real frame
// table, world/scene names, scaled intrinsics, path scheme, the text-table parser's errors and the writer's
// exact float formatting.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "core/error.hpp"
#include "data/reader_common.hpp"
#include "data/text_table.hpp"
#include "data/vkitti.hpp"
#include "data/vkitti_paths.hpp"
#include "data_read_util.hpp"

using namespace sdn::data;
namespace dt = sdn::data::testing;

TEST(DataVkitti, ClassListAndNames) {
  ASSERT_EQ(class_names().size(), 14u);
  EXPECT_STREQ(class_names()[0], "Misc");
  EXPECT_STREQ(class_names()[13], "Vegetation");
  for (int i = 0; i < kNumClasses; ++i) EXPECT_EQ(class_id(class_names()[i]), i);
  EXPECT_EQ(class_id("Car"), kCar);
  EXPECT_EQ(class_id("Van"), kVan);
  EXPECT_EQ(class_id("Truck"), kTruck);
  EXPECT_EQ(class_id("Undefined"), std::nullopt);
  EXPECT_EQ(class_id("car"), std::nullopt);
  EXPECT_EQ(class_colors()[kCar], (std::array<std::uint8_t, 3>{255, 127, 80}));
  EXPECT_EQ(class_colors()[kGuardRail], (std::array<std::uint8_t, 3>{250, 100, 255}));
}

TEST(DataVkitti, SplitGives16820TrainAnd4440TestOverTheFullDataset) {
  int train = 0, test = 0;
  for (const auto& w : worlds())
    for (int f = 0; f < world_frame_count(w); ++f) (is_train_frame(w, f) ? train : test) += 1;
  const int per_variation = static_cast<int>(variations().size());
  EXPECT_EQ(per_variation, 10);
  EXPECT_EQ(train * per_variation, 16820);
  EXPECT_EQ(test * per_variation, 4440);
  EXPECT_EQ((train + test) * per_variation, 21260);
  EXPECT_TRUE(is_train_frame("0006", 69));
  EXPECT_FALSE(is_train_frame("0006", 68));
  EXPECT_TRUE(is_train_frame("0020", 836));
  EXPECT_FALSE(is_train_frame("0020", 166));
  EXPECT_FALSE(is_train_frame("0001", 356));
  EXPECT_FALSE(is_train_frame("0003", 0));
}

TEST(DataVkitti, SceneNamesAndIntrinsics) {
  EXPECT_EQ(scene_name("0001"), "Scene01");
  EXPECT_EQ(scene_name("0020"), "Scene20");
  EXPECT_EQ(world_from_scene("Scene06"), "0006");
  EXPECT_EQ(world_from_scene(scene_name("0018")), "0018");
  const Intrinsics k1 = vkitti1_intrinsics(1242, 375), k2 = vkitti2_intrinsics(1242, 375);
  EXPECT_EQ(k1.fx, 725.0);
  EXPECT_EQ(k1.fy, 725.0);
  EXPECT_EQ(k1.cx, 620.5);
  EXPECT_EQ(k1.cy, 187.0);
  EXPECT_EQ(k2.fx, 725.0087);
  const Intrinsics half = vkitti1_intrinsics(621, 375);
  EXPECT_EQ(half.fx, 362.5);
  EXPECT_EQ(half.cx, 310.25);
  EXPECT_EQ(half.fy, 725.0);
}

TEST(DataVkitti, PathScheme) {
  EXPECT_EQ(paths::v1_image("R", paths::kV1DepthGt, "0001", "fog", 42), "R/vkitti_1.3.1_depthgt/0001/fog/00042.png");
  EXPECT_EQ(paths::v1_encoding("R", "0002", "clone"), "R/vkitti_1.3.1_scenegt/0002_clone_scenegt_rgb_encoding.txt");
  EXPECT_EQ(paths::v1_motgt("R", "0002", "clone"), "R/vkitti_1.3.1_motgt/0002_clone.txt");
  EXPECT_EQ(paths::v2_image("R", paths::kV2Instance, "0006", "rain", 1, 7),
            "R/Scene06/rain/frames/instanceSegmentation/Camera_1/instancegt_00007.png");
  EXPECT_EQ(paths::v2_image("R", paths::kV2Rgb, "0006", "rain", 0, 7), "R/Scene06/rain/frames/rgb/Camera_0/rgb_00007.jpg");
  EXPECT_EQ(paths::v2_text("R", "0020", "clone", "bbox.txt"), "R/Scene20/clone/bbox.txt");
  EXPECT_EQ(paths::frame_number("rgb_00042.jpg", "rgb_", "jpg"), 42);
  EXPECT_EQ(paths::frame_number("00042.png", "", "png"), 42);
  EXPECT_EQ(paths::frame_number("00042.png.tmp", "", "png"), -1);
  EXPECT_EQ(paths::frame_number("rgb_x0042.jpg", "rgb_", "jpg"), -1);
}

TEST(DataVkitti, TextTableFindsColumnsByNameAndNamesBadCells) {
  dt::TempDir dir;
  const std::string f = dir.path() + "/t.txt";
  dt::write_text(f, "frame tid x\n0 1 2.5\n\n1 2 abc\n2 3\n");
  const std::string short_row = dt::error_of([&] { TextTable::read(f, {"frame"}); });
  EXPECT_NE(short_row.find(f + ":5: 2 fields, expected 3 (frame tid x)"), std::string::npos) << short_row;

  dt::write_text(f, "frame tid x\r\n0 1 2.5\r\n\r\n1 2 abc\r\n");
  const TextTable t = TextTable::read(f, {"x", "frame"});
  ASSERT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.column("x"), 2u);
  EXPECT_EQ(t.to_float(0, t.column("x")), 2.5f);
  EXPECT_EQ(t.line(1), 4);
  const std::string bad = dt::error_of([&] { t.to_float(1, t.column("x")); });
  EXPECT_NE(bad.find(f + ":4: column 3 'x': 'abc' is not a number"), std::string::npos) << bad;
  const std::string not_int = dt::error_of([&] { t.to_int(0, t.column("x")); });
  EXPECT_NE(not_int.find(f + ":2: column 3 'x': '2.5' is not an integer"), std::string::npos) << not_int;

  const std::string missing_col = dt::error_of([&] { TextTable::read(f, {"frame", "trackID"}); });
  EXPECT_NE(missing_col.find(f + ":1: header 'frame tid x' lacks column(s) trackID"), std::string::npos) << missing_col;
  dt::write_text(f, "\n\n");
  EXPECT_NE(dt::error_of([&] { TextTable::read(f, {}); }).find("empty file"), std::string::npos);
  const std::string absent = dt::error_of([&] { TextTable::read(dir.path() + "/none.txt", {}, "extract X"); });
  EXPECT_NE(absent.find("none.txt: missing or unreadable"), std::string::npos) << absent;
  EXPECT_NE(absent.find("hint: extract X"), std::string::npos) << absent;
}

TEST(DataVkitti, ColourTableMapsNamesInstancesAndUnknownClasses) {
  dt::TempDir dir;
  const std::string f = dir.path() + "/enc.txt";
  dt::write_text(f, "Category(:id) r g b\nTerrain 210 0 200\nUndefined 0 0 0\nCar:4 1 2 3\nVan:0 4 5 6\n");
  const auto table = detail::read_color_table(TextTable::read(f, {"Category(:id)", "r", "g", "b"}), "Category(:id)", true);
  auto at = [&](std::uint32_t r, std::uint32_t g, std::uint32_t b) { return table.labels.at((r << 16) | (g << 8) | b); };
  EXPECT_EQ(at(210, 0, 200).class_id, kTerrain);
  EXPECT_EQ(at(210, 0, 200).instance, 0);
  EXPECT_EQ(at(0, 0, 0).class_id, kUnlabelled);
  EXPECT_EQ(at(1, 2, 3).class_id, kCar);
  EXPECT_EQ(at(1, 2, 3).instance, 5);
  EXPECT_EQ(at(4, 5, 6).class_id, kVan);
  EXPECT_EQ(at(4, 5, 6).instance, 1);

  dt::write_text(f, "Category(:id) r g b\nTerrain 210 0 200\nTerrain 210 0 200\n");  // a repeated line is harmless
  EXPECT_EQ(detail::read_color_table(TextTable::read(f, {"Category(:id)"}), "Category(:id)", true).labels.size(), 1u);
  dt::write_text(f, "Category(:id) r g b\nTerrain 210 0 200\nRoad 210 0 200\n");
  const std::string dup = dt::error_of(
      [&] { detail::read_color_table(TextTable::read(f, {"Category(:id)", "r", "g", "b"}), "Category(:id)", true); });
  EXPECT_NE(dup.find(f + ":3: colour 210 0 200 is already used on line 2 for another label"), std::string::npos) << dup;
  dt::write_text(f, "Category(:id) r g b\nTerrain 300 0 200\n");
  const std::string range = dt::error_of(
      [&] { detail::read_color_table(TextTable::read(f, {"Category(:id)", "r", "g", "b"}), "Category(:id)", true); });
  EXPECT_NE(range.find(f + ":2: column 2 'r': 300 is not in [0, 255]"), std::string::npos) << range;
  dt::write_text(f, "Category(:id) r g b\nCar:x 1 2 3\n");
  const std::string tid = dt::error_of(
      [&] { detail::read_color_table(TextTable::read(f, {"Category(:id)", "r", "g", "b"}), "Category(:id)", true); });
  EXPECT_NE(tid.find("'Car:x': the track id after ':' must be an integer"), std::string::npos) << tid;
}

TEST(DataVkitti, FloatFormattingIsShortAndExact) {
  EXPECT_EQ(format_float(2.904f), "2.904");
  EXPECT_EQ(format_float(-1.571205f), "-1.571205");
  EXPECT_EQ(format_float(0.f), "0");
  EXPECT_EQ(format_double(725.0087), "725.0087");
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(-1000.f, 1000.f);
  for (int i = 0; i < 2000; ++i) {
    const float v = dist(gen);
    EXPECT_EQ(std::strtof(format_float(v).c_str(), nullptr), v);
    const double d = dist(gen) * 1.000001;
    EXPECT_EQ(std::strtod(format_double(d).c_str(), nullptr), d);
  }
}

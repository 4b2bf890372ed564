// HDF5 RAII helpers: datasets by rows, attributes of every kind, errors naming file and object.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/h5.hpp"

using namespace sdn;

TEST(H5, RowsAndAttributesRoundTrip) {
  std::string path = ::testing::TempDir() + "t.h5";
  {
    auto f = h5::create_truncate(path);
    auto ds = h5::create_dataset(f, "/grp/x", h5::native<std::uint16_t>(), {4, 3}, {1, 3});
    std::vector<std::uint16_t> rows = {1, 2, 3, 4, 5, 6};
    h5::write_rows(ds, h5::native<std::uint16_t>(), 1, 2, rows.data(), "x");
    h5::set_attr(f, "format_version", std::int64_t{7});
    h5::set_attr(f, "names", std::vector<std::string>{"Misc", "Building"});
    h5::set_attr(ds, "scale", 0.5);
    h5::set_attr(f, "layout", std::string("vkitti2"));
  }
  auto f = h5::open_read(path);
  auto ds = h5::open_dataset(f, "/grp/x", path);
  EXPECT_EQ(h5::dims(ds), (std::vector<hsize_t>{4, 3}));
  std::vector<std::uint16_t> back(3);
  h5::read_rows(ds, h5::native<std::uint16_t>(), 2, 1, back.data(), "x");
  EXPECT_EQ(back, (std::vector<std::uint16_t>{4, 5, 6}));
  EXPECT_EQ(h5::get_attr_int(f, "format_version", path), 7);
  EXPECT_EQ(h5::get_attr_strings(f, "names", path), (std::vector<std::string>{"Misc", "Building"}));
  EXPECT_EQ(h5::get_attr_string(f, "layout", path), "vkitti2");
  EXPECT_EQ(h5::get_attr_double(ds, "scale", path), 0.5);
  EXPECT_TRUE(h5::exists(f, "/grp/x"));
  EXPECT_FALSE(h5::exists(f, "/nope/x"));
}

TEST(H5, ErrorsNameTheFileAndObject) {
  std::string path = ::testing::TempDir() + "t2.h5";
  { auto f = h5::create_truncate(path); }
  auto f = h5::open_read(path);
  try {
    h5::open_dataset(f, "/rgb", path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": dataset '/rgb' is missing"), std::string::npos) << e.what();
  }
  try {
    h5::get_attr_int(f, "format_version", path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("attribute 'format_version' is missing"), std::string::npos);
  }
  EXPECT_THROW(h5::open_read("/nonexistent.h5"), Error);
  std::string garbage = ::testing::TempDir() + "garbage.h5";
  FILE* g = fopen(garbage.c_str(), "w");
  fputs("not hdf5", g);
  fclose(g);
  try {
    h5::open_read(garbage);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(garbage), std::string::npos);
  }
}

TEST(H5, ReadingRowsOutsideTheDatasetIsAnError) {
  std::string path = ::testing::TempDir() + "t3.h5";
  auto f = h5::create_truncate(path);
  auto ds = h5::create_dataset(f, "x", h5::native<float>(), {2});
  float v[2];
  EXPECT_THROW(h5::read_rows(ds, h5::native<float>(), 1, 2, v, "x"), Error);
}

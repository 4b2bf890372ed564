// Pure parsers of core/parse.hpp: values, sizes, durations, and their exact error texts.
#include <gtest/gtest.h>

#include "core/parse.hpp"

using namespace sdn::parse;

TEST(Parse, IntegersAndErrors) {
  int v = 0;
  EXPECT_EQ(parse_value("42", v), "");
  EXPECT_EQ(v, 42);
  EXPECT_EQ(parse_value(" -7 ", v), "");
  EXPECT_EQ(v, -7);
  EXPECT_EQ(parse_value("4x", v), "not an integer");
  EXPECT_EQ(parse_value("", v), "empty value");
  EXPECT_EQ(parse_value("99999999999", v), "integer out of range");
}

TEST(Parse, DoublesRoundTripExactly) {
  for (double x : {0.1, 1e-4, 0.9, 3.0, 123456.789, 2.0 / 3.0}) {
    double back = 0;
    ASSERT_EQ(parse_value(format_value(x), back), "");
    EXPECT_EQ(back, x);
  }
  double d = 0;
  EXPECT_EQ(parse_value("nan", d), "number out of range");
  EXPECT_EQ(parse_value("1.5e", d), "not a number");
}

TEST(Parse, BoolsAndLists) {
  bool b = false;
  EXPECT_EQ(parse_value("yes", b), "");
  EXPECT_TRUE(b);
  EXPECT_EQ(parse_value("maybe", b), "not a boolean");
  std::vector<int> xs;
  EXPECT_EQ(parse_value("100, 150,200", xs), "");
  EXPECT_EQ(xs, (std::vector<int>{100, 150, 200}));
  EXPECT_EQ(parse_value("1,b", xs), "item 'b': not an integer");
  std::vector<std::string> ss;
  EXPECT_EQ(parse_value("0001,0006", ss), "");
  EXPECT_EQ(format_value(ss), "0001,0006");
}

TEST(Parse, Sizes) {
  std::int64_t b = 0;
  EXPECT_EQ(parse_size("25M", b), "");
  EXPECT_EQ(b, 25LL << 20);
  EXPECT_EQ(parse_size("512K", b), "");
  EXPECT_EQ(b, 512LL << 10);
  EXPECT_EQ(parse_size("1000", b), "");
  EXPECT_EQ(b, 1000);
  EXPECT_NE(parse_size("lots", b), "");
}

TEST(Parse, DurationsInSlurmForms) {
  std::int64_t s = 0;
  EXPECT_EQ(parse_duration("01:30:00", s), "");
  EXPECT_EQ(s, 5400);
  EXPECT_EQ(parse_duration("2-00:00:00", s), "");
  EXPECT_EQ(s, 2 * 86400);
  EXPECT_EQ(parse_duration("30", s), "");
  EXPECT_EQ(s, 1800);
  EXPECT_EQ(parse_duration("05:30", s), "");
  EXPECT_EQ(s, 330);
  EXPECT_EQ(parse_duration("90s", s), "");
  EXPECT_EQ(s, 90);
  EXPECT_EQ(parse_duration("2h", s), "");
  EXPECT_EQ(s, 7200);
  EXPECT_NE(parse_duration("1:2:3:4", s), "");
  EXPECT_NE(parse_duration("soon", s), "");
  EXPECT_EQ(format_walltime(5400), "01:30:00");
  EXPECT_EQ(format_walltime(2 * 86400 + 61), "2-00:01:01");
}

TEST(Parse, SplitAndTrim) {
  EXPECT_EQ(trim("  a b \t"), "a b");
  EXPECT_EQ(split_ws("a  b\tc"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split("a,,b", ',', false), (std::vector<std::string>{"a", "", "b"}));
}

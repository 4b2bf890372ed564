// Option schema: precedence (command line > later file > earlier file > default), every problem reported at
// once with its origin, unknown keys with suggestions, help text with defaults, INI round trip.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/options.hpp"

namespace {

struct Demo {
  std::string out = "data";
  int frames = 10;
  double lr = 0.01;
  bool force = false;
  std::string layout = "vkitti1";
  std::vector<int> sizes = {100, 150};
};

sdn::opt::Schema<Demo> schema() {
  sdn::opt::Schema<Demo> s("demo", "a demo command");
  s.add("out", "output dir", [](Demo& d) -> auto& { return d.out; })
      .add("data.frames", "frames", [](Demo& d) -> auto& { return d.frames; }, sdn::opt::Range{1, 1000})
      .add("optim.lr", "learning rate", [](Demo& d) -> auto& { return d.lr; }, sdn::opt::Range{0, 10})
      .add("force", "force it", [](Demo& d) -> auto& { return d.force; })
      .add("layout", "layout", [](Demo& d) -> auto& { return d.layout; }, sdn::opt::Choices{"vkitti1", "vkitti2"})
      .add("data.sizes", "sizes", [](Demo& d) -> auto& { return d.sizes; });
  return s;
}

std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::vector<std::string>& args) {
  try {
    sdn::opt::parse(schema(), args);
  } catch (const sdn::UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Options, DefaultsComeFromTheStruct) {
  auto p = sdn::opt::parse(schema(), {});
  EXPECT_EQ(p.config.frames, 10);
  EXPECT_EQ(p.config.layout, "vkitti1");
}

TEST(Options, PrecedenceCommandLineOverFilesOverDefault) {
  auto a = write_tmp("a.ini", "out = from_a\n[data]\nframes = 20\n[optim]\nlr = 0.5\n");
  auto b = write_tmp("b.ini", "[data]\nframes = 30\n");
  auto p = sdn::opt::parse(schema(), {"--config", a, "--config", b, "--optim.lr", "0.25", "--force"});
  EXPECT_EQ(p.config.out, "from_a");
  EXPECT_EQ(p.config.frames, 30);   // later file wins
  EXPECT_EQ(p.config.lr, 0.25);     // command line wins
  EXPECT_TRUE(p.config.force);      // bare flag
}

TEST(Options, ReportsEveryProblemWithItsOrigin) {
  auto f = write_tmp("bad.ini", "# comment\n[data]\nframes = 0\nfrmes = 3\n");
  std::string err = error_of({"--config", f, "--layout", "vkitti3", "--optim.lr", "abc"});
  EXPECT_NE(err.find(f + ":3: data.frames = '0': out of range (accepted: integer in [1, 1000])"), std::string::npos) << err;
  EXPECT_NE(err.find(f + ":4: unknown key 'data.frmes' (did you mean 'data.frames'?)"), std::string::npos) << err;
  EXPECT_NE(err.find("command line: layout = 'vkitti3': not an accepted value (accepted: one of vkitti1|vkitti2)"),
            std::string::npos) << err;
  EXPECT_NE(err.find("command line: optim.lr = 'abc': not a number"), std::string::npos) << err;
}

TEST(Options, UnknownCommandLineOptionSuggestsAKey) {
  std::string err = error_of({"--lr", "0.1"});
  EXPECT_NE(err.find("unknown option '--lr' (did you mean '--optim.lr'?)"), std::string::npos) << err;
}

TEST(Options, MalformedIniLineAndMissingFileAreNamed) {
  auto f = write_tmp("syntax.ini", "[data\nframes 3\n");
  std::string err = error_of({"--config", f});
  EXPECT_NE(err.find(f + ":1: malformed section header"), std::string::npos) << err;
  EXPECT_NE(err.find(f + ":2: expected 'key = value'"), std::string::npos) << err;
  err = error_of({"--config", "/nonexistent/x.ini"});
  EXPECT_NE(err.find("/nonexistent/x.ini: cannot open config file"), std::string::npos) << err;
}

TEST(Options, HelpListsDefaultsAndAcceptedValues) {
  auto p = sdn::opt::parse(schema(), {"--help"});
  ASSERT_TRUE(p.help);
  EXPECT_NE(p.usage.find("--data.frames"), std::string::npos);
  EXPECT_NE(p.usage.find("default: 10; integer in [1, 1000]"), std::string::npos) << p.usage;
  EXPECT_NE(p.usage.find("default: vkitti1; one of vkitti1|vkitti2"), std::string::npos) << p.usage;
}

TEST(Options, IniRoundTripReproducesTheConfig) {
  auto p = sdn::opt::parse(schema(), {"--optim.lr", "0.0123", "--data.sizes", "100,375"});
  auto f = write_tmp("round.ini", schema().to_ini(p.config));
  auto q = sdn::opt::parse(schema(), {"--config", f});
  EXPECT_EQ(q.config.lr, 0.0123);
  EXPECT_EQ(q.config.sizes, (std::vector<int>{100, 375}));
  EXPECT_EQ(schema().to_ini(q.config), schema().to_ini(p.config));
}

TEST(Options, CrossFieldValidationRunsAfterConversion) {
  std::function<std::vector<std::string>(const Demo&)> v = [](const Demo& d) {
    std::vector<std::string> e;
    if (d.force && d.frames > 5) e.push_back("force needs data.frames <= 5");
    return e;
  };
  EXPECT_THROW(sdn::opt::parse(schema(), {"--force"}, v), sdn::UsageError);
  EXPECT_NO_THROW(sdn::opt::parse(schema(), {"--force", "--data.frames", "5"}, v));
}

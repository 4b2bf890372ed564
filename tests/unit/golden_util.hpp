// Golden-file comparison for generated text (sbatch scripts, modulefiles, gnuplot scripts): on a mismatch the
// test prints a unified diff; SDN_UPDATE_GOLDEN=1 rewrites the golden instead (review `git diff tests/golden`).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace sdn_test {

inline std::string golden_source_dir() {
  const char* d = std::getenv("SDN_SOURCE_DIR");
  return d ? d : ".";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void expect_golden_at(const std::string& path, const std::string& name, const std::string& actual) {
  const char* update = std::getenv("SDN_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    std::printf("updated %s\n", path.c_str());
    return;
  }
  const std::string expected = slurp(path);
  if (expected == actual) return;
  const std::string tmp = ::testing::TempDir() + "actual-" + name;
  std::ofstream(tmp, std::ios::binary) << actual;
  std::string cmd = "diff -u '" + path + "' '" + tmp + "'";
  std::fflush(stdout);
  (void)!std::system(cmd.c_str());
  ADD_FAILURE() << "generated text differs from golden " << path << (expected.empty() ? " (missing or empty)" : "")
                << "\n  if intended: SDN_UPDATE_GOLDEN=1 ctest --test-dir build -R test_slurm";
}

// tests/golden/<name>
inline void expect_golden(const std::string& name, const std::string& actual) {
  expect_golden_at(golden_source_dir() + "/tests/golden/" + name, name, actual);
}

}  // namespace sdn_test

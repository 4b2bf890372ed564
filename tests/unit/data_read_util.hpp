// Helpers of the data-reading tests: a self-removing temporary folder, tiny synthetic trees, the text of a
// thrown error, and file surgery (truncate, flip bytes, rewrite a line) to make bad input on purpose.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "data/synth.hpp"

namespace sdn::data::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "sdn-data-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = ::mkdtemp(buf.data());
    if (!made) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A small tree: one world, one variation, three 160x48 frames (both cameras for 2.0.3).
inline SynthOptions tiny_options(Layout layout, const std::string& out) {
  SynthOptions o;
  o.layout = layout;
  o.out = out;
  o.worlds = {"0001"};
  o.variations = {"clone"};
  o.frames = 3;
  o.width = 160;
  o.height = 48;
  o.seed = 7;
  return o;
}

// The error text of `f`, or "" when it does not throw.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline void truncate_to(const std::string& path, double fraction) {
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, static_cast<std::uintmax_t>(size * fraction));
}

// XORs `count` bytes starting at `fraction` of the file.
inline void flip_bytes(const std::string& path, double fraction, int count) {
  std::string bytes = read_text(path);
  const size_t at = static_cast<size_t>(bytes.size() * fraction);
  for (int i = 0; i < count && at + i < bytes.size(); ++i) bytes[at + i] = static_cast<char>(bytes[at + i] ^ 0x5A);
  write_text(path, bytes);
}

// Replaces line `line` (1-based) of a text file.
inline void replace_line(const std::string& path, int line, const std::string& text) {
  std::istringstream in(read_text(path));
  std::string out, l;
  for (int n = 1; std::getline(in, l); ++n) out += (n == line ? text : l) + "\n";
  write_text(path, out);
}

inline std::string line_of(const std::string& path, int line) {
  std::istringstream in(read_text(path));
  std::string l;
  for (int n = 1; std::getline(in, l); ++n)
    if (n == line) return l;
  return "";
}

}  // namespace sdn::data::testing

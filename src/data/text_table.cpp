// Implements the vKITTI text-table parser and the exact float formatting (see text_table.hpp).
#include "data/text_table.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sdn::data {
namespace {

const char* kMalformedHint = "the file is truncated or was edited; re-extract it from the dataset archive";

}  // namespace

TextTable TextTable::read(const std::string& path, const std::vector<std::string>& required,
                          const std::string& layout_hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": missing or unreadable (" + std::strerror(errno) + ")",
                layout_hint.empty() ? "check that the dataset is complete" : layout_hint);
  TextTable t;
  t.path_ = path;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto fields = parse::split_ws(line);
    if (fields.empty()) continue;
    if (t.header_.empty()) {
      t.header_ = std::move(fields);
      continue;
    }
    if (fields.size() != t.header_.size())
      throw Error(path + ":" + std::to_string(n) + ": " + std::to_string(fields.size()) + " fields, expected " +
                      std::to_string(t.header_.size()) + " (" + parse::join(t.header_, " ") + ")",
                  kMalformedHint);
    t.rows_.push_back(std::move(fields));
    t.lines_.push_back(n);
  }
  if (in.bad()) throw Error(path + ": read error", kMalformedHint);
  if (t.header_.empty()) throw Error(path + ": empty file (expected a header line)", kMalformedHint);
  std::vector<std::string> missing;
  for (const auto& r : required)
    if (std::find(t.header_.begin(), t.header_.end(), r) == t.header_.end()) missing.push_back(r);
  if (!missing.empty())
    throw Error(path + ":1: header '" + parse::join(t.header_, " ") + "' lacks column(s) " +
                    parse::join(missing, ", ") + " (expected " + parse::join(required, " ") + ")",
                "this is not the file the layout expects here, or it comes from another dataset version");
  return t;
}

std::size_t TextTable::column(const std::string& name) const {
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end()) throw Error(path_ + ":1: no column '" + name + "' in the header");
  return static_cast<std::size_t>(it - header_.begin());
}

void TextTable::fail(std::size_t row, std::size_t col, const std::string& what) const {
  throw Error(path_ + ":" + std::to_string(lines_[row]) + ": column " + std::to_string(col + 1) + " '" +
                  header_[col] + "': " + what,
              kMalformedHint);
}

void TextTable::fail_row(std::size_t row, const std::string& what) const {
  throw Error(path_ + ":" + std::to_string(lines_[row]) + ": " + what, kMalformedHint);
}

int TextTable::to_int(std::size_t row, std::size_t col) const {
  const std::string& s = text(row, col);
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0') fail(row, col, "'" + s + "' is not an integer");
  if (errno == ERANGE || v < -2147483647L || v > 2147483647L) fail(row, col, "'" + s + "' is out of range");
  return static_cast<int>(v);
}

float TextTable::to_float(std::size_t row, std::size_t col) const {
  const std::string& s = text(row, col);
  char* end = nullptr;
  float v = std::strtof(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') fail(row, col, "'" + s + "' is not a number");
  if (!std::isfinite(v)) fail(row, col, "'" + s + "' is not a finite number");
  return v;
}

double TextTable::to_double(std::size_t row, std::size_t col) const {
  const std::string& s = text(row, col);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0') fail(row, col, "'" + s + "' is not a number");
  if (!std::isfinite(v)) fail(row, col, "'" + s + "' is not a finite number");
  return v;
}

bool TextTable::to_bool(std::size_t row, std::size_t col) const {
  const std::string& s = text(row, col);
  if (s == "True" || s == "true" || s == "1") return true;
  if (s == "False" || s == "false" || s == "0") return false;
  fail(row, col, "'" + s + "' is not a boolean (True/False or 1/0)");
}

std::string format_float(float v) {
  char buf[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, static_cast<double>(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

std::string format_double(double v) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace sdn::data

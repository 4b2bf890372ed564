// The vKITTI ground-truth text files (1.3.1 motgt and scenegt encoding; 2.0.3 bbox, colors, info, intrinsic,
// pose, extrinsic): space-separated, one header line naming the columns. Columns are looked up by name, so a
// reader states which columns it needs rather than trusting an order; every malformed value or short row is an
// Error of the form "<file>:<line>: column <n> '<name>': ...". Also the writer's exact float formatting.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sdn::data {

class TextTable {
 public:
  // Reads `path`. The first non-empty line is the header; each of `required` must appear in it; every further
  // non-empty line must have exactly as many fields as the header. `layout_hint` ends up in the hint of a
  // missing-file error (e.g. "vKITTI 1.3.1: extract vkitti_1.3.1_motgt.tar.gz").
  static TextTable read(const std::string& path, const std::vector<std::string>& required,
                        const std::string& layout_hint = {});

  const std::string& path() const { return path_; }
  std::size_t rows() const { return rows_.size(); }
  int line(std::size_t row) const { return lines_[row]; }
  // Index of a column named in the header (only call with names passed as `required`).
  std::size_t column(const std::string& name) const;

  const std::string& text(std::size_t row, std::size_t col) const { return rows_[row][col]; }
  int to_int(std::size_t row, std::size_t col) const;
  float to_float(std::size_t row, std::size_t col) const;  // finite values only
  double to_double(std::size_t row, std::size_t col) const;
  bool to_bool(std::size_t row, std::size_t col) const;     // True/False (2.0.3) or 1/0 (1.3.1)

  // Throws "<path>:<line>: column <n> '<name>': <what>".
  [[noreturn]] void fail(std::size_t row, std::size_t col, const std::string& what) const;
  // Throws "<path>:<line>: <what>".
  [[noreturn]] void fail_row(std::size_t row, const std::string& what) const;

 private:
  std::string path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<int> lines_;
};

// Shortest decimal text that reads back (strtof / strtod) as exactly `v`: "2.904", not "2.90400004".
std::string format_float(float v);
std::string format_double(double v);

}  // namespace sdn::data

// What a `--follow` view writes at each refresh: on a terminal the new block replaces the previous one in place
// (cursor up over its rows, clear to the end of the screen, draw); into a pipe or file, one stamped line per
// change of the one-line summary and nothing when it did not change. Text in, bytes out: the caller decides
// is_tty (isatty) and writes the bytes, so `sdn status` and `sdn pipeline status` share it.
#pragma once

#include <string>

namespace sdn {

class FollowOutput {
 public:
  // columns: the terminal's width, to count the rows a long line wraps into (0: unknown, one row per line).
  explicit FollowOutput(bool is_tty, int columns = 0) : tty_(is_tty), columns_(columns) {}

  // block: the whole current view (terminal); summary: one line without a clock, compared with the previous one
  // (pipe); stamp: what precedes a printed summary ("13:45:02"). Returns the bytes to write, possibly none.
  std::string update(const std::string& block, const std::string& summary, const std::string& stamp);

  // Rows `text` takes on a terminal `columns` wide (UTF-8 aware; 0: one row per line).
  static int rows_of(const std::string& text, int columns);

 private:
  bool tty_;
  int columns_;
  bool first_ = true;
  std::string last_;   // the last block (terminal) or summary (pipe) written
  int rows_ = 0;       // rows of the block on screen
};

}  // namespace sdn

// Implements the in-place / line-per-change output of `--follow` (see follow_output.hpp).
#include "core/follow_output.hpp"

namespace sdn {

int FollowOutput::rows_of(const std::string& text, int columns) {
  int rows = 0;
  std::size_t width = 0;  // code points on the current line
  bool open = false;
  auto close_line = [&] {
    rows += columns > 0 && width > 0 ? static_cast<int>((width + columns - 1) / columns) : 1;
    width = 0;
    open = false;
  };
  for (unsigned char c : text) {
    if (c == '\n') {
      close_line();
      continue;
    }
    open = true;
    if ((c & 0xC0) != 0x80) ++width;  // continuation bytes of a UTF-8 sequence take no column
  }
  if (open) close_line();
  return rows;
}

std::string FollowOutput::update(const std::string& block, const std::string& summary, const std::string& stamp) {
  if (!tty_) {
    if (!first_ && summary == last_) return {};
    first_ = false;
    last_ = summary;
    return stamp + (stamp.empty() ? "" : " ") + summary + "\n";
  }
  if (!first_ && block == last_) return {};
  std::string out;
  // Back to the first row of the previous block (the cursor is at the start of the row below it), then clear.
  if (rows_ > 0) out += "\x1b[" + std::to_string(rows_) + "A\r\x1b[J";
  out += block;
  if (!block.empty() && block.back() != '\n') out += '\n';
  first_ = false;
  last_ = block;
  rows_ = rows_of(block, columns_);
  return out;
}

}  // namespace sdn

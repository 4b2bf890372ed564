// What `--follow` needs to know about the terminal it writes to (cli/ decides; core/follow_output.hpp renders):
// whether stdout is one, its width, and the wall-clock stamp of an update.
#pragma once

#include <string>

namespace sdn::cli {

bool stdout_is_terminal();
// Columns the in-place redraw wraps long lines at (0: unknown).
int terminal_columns();
// Local "HH:MM:SS" now.
std::string clock_now();

}  // namespace sdn::cli

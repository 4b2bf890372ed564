// The `sdn` executable.
// provides: sdn::cli::dispatch (cli/dispatch.hpp) -> the command table (cli/commands.hpp)
#include "cli/dispatch.hpp"

int main(int argc, char** argv) { return sdn::cli::dispatch(argc, argv); }

// `sdn <command> ...`: finds the command, runs it, and turns exceptions into the documented exit codes.
#pragma once

namespace sdn::cli {

int dispatch(int argc, char** argv);

}  // namespace sdn::cli

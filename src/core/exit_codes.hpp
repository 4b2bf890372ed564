// The exit-code contract between `sdn` commands and the generated job scripts (README "Exit codes").
#pragma once

namespace sdn {

constexpr int kExitOk = 0;         // finished: training complete, command succeeded
constexpr int kExitFailure = 1;    // failed: data error, crash, I/O error; job scripts never requeue on it
constexpr int kExitUsage = 2;      // bad command line or config; nothing was done
constexpr int kExitResumable = 3;  // stopped early with a valid checkpoint (signal or deadline): requeue/continue
constexpr int kExitCollectiveTimeout = 4;  // a collective waited past dist.timeout_seconds (a peer died or hangs): failure

}  // namespace sdn

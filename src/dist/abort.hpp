// Ending the whole job when one rank fails, and agreeing on failure at step boundaries.
// A rank that throws while others wait in a collective would hang the job until the walltime; abort_job
// turns the failure into MPI_Abort so the launcher tears every rank down with one clear message.
#pragma once

#include <string>

#include "dist/mpi_session.hpp"

namespace sdn::dist {

// Writes `why` (with rank and host) to stderr, flushes all output streams (log files too), then
// MPI_Abort(MPI_COMM_WORLD, code) when MPI is running, else _Exit(code). For cli/ only: library code throws.
[[noreturn]] void abort_job(const std::string& why, int code);

// Collective (every rank of `comm` must call it at the same point, e.g. a step boundary): the lowest rank
// whose `failed` is true, or -1 if none. Lets ranks stop together with a known culprit instead of hanging.
int first_failed_rank(const Communicator& comm, bool failed);

// Collective: the maximum of `value` over all ranks (a stop flag: 0 go on, 1 stop at this step, ...).
int agree_max(const Communicator& comm, int value);

}  // namespace sdn::dist

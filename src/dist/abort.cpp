// Implements abort_job and the step-boundary agreements (see abort.hpp).
#include "dist/abort.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"
#include "dist/mpi_check.hpp"
#include "dist/watchdog.hpp"

namespace sdn::dist {

void abort_job(const std::string& why, int code) {
  // stderr directly, not only the logger: the logger may not be configured yet, and the launcher
  // forwards stderr of the failing rank even while it kills the others.
  std::fprintf(stderr, "%s sdn: aborting the job: %s\n", where_am_i().c_str(), why.c_str());
  // Flushes every C stream, including the FILE* behind the logger's file sinks, before MPI_Abort kills us.
  std::fflush(nullptr);
  int initialised = 0;
  int finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

int first_failed_rank(const Communicator& comm, bool failed) {
  int candidate = failed ? comm.rank() : INT_MAX;
  int lowest = INT_MAX;
  CollectiveScope watch("MPI_Allreduce of the failure vote");
  SDN_MPI_CHECK(MPI_Allreduce(&candidate, &lowest, 1, MPI_INT, MPI_MIN, comm.comm()));
  return lowest == INT_MAX ? -1 : lowest;
}

int agree_max(const Communicator& comm, int value) {
  int result = value;
  CollectiveScope watch("MPI_Allreduce of the stop vote");
  SDN_MPI_CHECK(MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MAX, comm.comm()));
  return result;
}

}  // namespace sdn::dist

// Child program of test_dist_abort: rank 1 fails while rank 0 waits in a collective that rank 1 will
// never join. cli/ does the same (catch, abort_job); without it this job would hang until a timeout.
#include <stdexcept>

#include "dist/abort.hpp"
#include "dist/mpi_session.hpp"

int main() {
  sdn::dist::MpiSession session;
  sdn::dist::Communicator comm;
  try {
    if (comm.rank() == 1) throw std::runtime_error("deliberate failure in the abort test");
    MPI_Barrier(comm.comm());  // rank 0 blocks here forever unless the job is aborted
  } catch (const std::exception& e) {
    sdn::dist::abort_job(e.what(), /*code=*/1);
  }
  return 0;
}

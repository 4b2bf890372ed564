// main() for the gtest binaries that run under mpirun: one MPI session for all tests, and an exit code
// agreed by all ranks (a failure on any rank fails every rank, so ctest sees it whichever rank mpirun reports).
#include <gtest/gtest.h>

#include <mpi.h>

#include "dist/mpi_session.hpp"

int main(int argc, char** argv) {
  // MULTIPLE so the threaded MPI reducer can be tested; the library here provides it (ompi_info).
  sdn::dist::MpiSession session(MPI_THREAD_MULTIPLE);
  ::testing::InitGoogleTest(&argc, argv);
  if (session.rank() != 0) {
    // Keep one readable report: other ranks print only their failures.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = failed;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (any_failed && !failed) std::fprintf(stderr, "rank %d: tests failed on another rank\n", session.rank());
  return any_failed;
}

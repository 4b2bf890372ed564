// Child program of test_dist_timeout: rank 1 stops participating (sleeps, never calls MPI again) while rank 0
// enters a collective under a 2-second collective watchdog. argv[1] picks the collective:
//   scalars              allreduce_sum (the loop's per-step scalars)
//   reducer-thread       a gradient bucket on the reducer's communication thread
//   reducer-nonblocking  a gradient bucket started with MPI_Iallreduce, waited for in finish()
// Without the watchdog rank 0 would wait forever; with it the job ends with kExitCollectiveTimeout.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "dist/collectives.hpp"
#include "dist/mpi_reducer.hpp"
#include "dist/mpi_session.hpp"
#include "dist/reducer_factory.hpp"
#include "dist/watchdog.hpp"

int main(int argc, char** argv) {
  const std::string scenario = argc > 1 ? argv[1] : "scalars";
  sdn::dist::MpiSession session(MPI_THREAD_MULTIPLE);
  sdn::dist::Communicator comm;
  sdn::dist::WatchdogOptions options;
  options.timeout_seconds = 2;
  sdn::dist::WatchdogInstall watchdog(options);

  torch::nn::Linear model(4, 3);
  std::unique_ptr<sdn::dist::GradientReducer> reducer;
  if (scenario != "scalars") {
    sdn::dist::ReducerOptions ro;
    ro.name = "timeout-test";
    ro.mpi_progress = scenario == "reducer-thread" ? sdn::dist::MpiProgress::kThread : sdn::dist::MpiProgress::kNonblocking;
    reducer = sdn::dist::make_reducer(sdn::dist::named_parameters(*model), ro, comm);  // collective: both ranks
  }
  if (comm.rank() == 1) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));  // hangs without MPI; killed by the abort
  }
  if (scenario == "scalars") {
    sdn::dist::allreduce_sum(comm, {1.0});
  } else {
    model(torch::ones({2, 4})).sum().backward();
    reducer->finish();
  }
  std::fprintf(stderr, "rank 0: the collective completed, which it must not\n");
  return 0;
}

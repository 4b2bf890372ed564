// The collective watchdog (dist/watchdog.hpp) ends a 2-rank job whose rank 1 stops participating: rank 0
// fails within a bounded time, with exit code kExitCollectiveTimeout (not 3: nothing may requeue it), and a
// message that names the collective, the rank, the host and how long it waited. Runs the child under its
// own mpirun with an outer timeout, so a watchdog that never fires fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/exit_codes.hpp"

namespace {

struct ChildRun {
  int code = -1;
  double seconds = 0;
  std::string output;
};

ChildRun run_child(const std::string& scenario) {
  const std::string command = std::string("timeout 60 ") + SDN_MPIEXEC + " --allow-run-as-root --oversubscribe -np 2 " +
                              SDN_TIMEOUT_CHILD + " " + scenario + " 2>&1";
  ChildRun r;
  const auto t0 = std::chrono::steady_clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), pipe)) r.output += buf.data();
  const int status = pclose(pipe);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

class DistTimeout : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(DistTimeout, HungPeerEndsTheJobWithTheCollectiveNamed) {
  const auto [scenario, collective] = GetParam();
  const auto r = run_child(scenario);
  EXPECT_NE(r.code, 124) << "the job hung until the outer timeout killed it:\n" << r.output;
  EXPECT_EQ(r.code, sdn::kExitCollectiveTimeout) << r.output;
  EXPECT_NE(r.code, sdn::kExitResumable) << r.output;
  // 2 s of watchdog timeout + one poll + MPI start and teardown; far below "until the time limit".
  EXPECT_LT(r.seconds, 30.0) << r.output;
  EXPECT_NE(r.output.find("collective timeout: '"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(collective), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("on rank 0 of 2 (host " + host_name() + ")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("has not completed after "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(dist.timeout_seconds = 2)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("the collective completed"), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    Collectives, DistTimeout,
    ::testing::Values(std::make_pair("scalars", "MPI_Allreduce of step scalars"),
                      std::make_pair("reducer-thread", "MPI_Allreduce of gradient bucket 0 of 1 of reducer 'timeout-test'"),
                      std::make_pair("reducer-nonblocking",
                                     "MPI_Iallreduce of gradient bucket 0 of 1 of reducer 'timeout-test'")),
    [](const auto& info) {
      std::string name = info.param.first;
      for (auto& ch : name)
        if (ch == '-') ch = '_';
      return name;
    });

}  // namespace

// An exception on one rank ends the whole 2-rank job quickly with a clear message (abort_job), instead of
// leaving the other rank blocked in a collective. Runs the child program under its own mpirun with a
// timeout, so this test is a plain process (not itself under mpirun).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>

namespace {

TEST(DistAbort, FailureOnOneRankEndsTheJob) {
  const std::string command = std::string("timeout 60 ") + SDN_MPIEXEC +
                              " --allow-run-as-root --oversubscribe -np 2 " + SDN_ABORT_CHILD + " 2>&1";
  const auto t0 = std::chrono::steady_clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 512> buf{};
  while (fgets(buf.data(), buf.size(), pipe)) output += buf.data();
  const int status = pclose(pipe);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(WIFEXITED(status)) << output;
  const int code = WEXITSTATUS(status);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(code, 124) << "the job hung until timeout killed it:\n" << output;
  EXPECT_LT(seconds, 30.0) << output;
  EXPECT_NE(output.find("[rank 1/2"), std::string::npos) << output;
  EXPECT_NE(output.find("aborting the job: deliberate failure in the abort test"), std::string::npos) << output;
}

}  // namespace

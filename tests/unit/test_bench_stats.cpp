// The benchmarks' arithmetic (src/cli/bench_stats.hpp): robust summaries and the Young/Daly checkpoint model,
// checked against values computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "cli/bench_stats.hpp"
#include "core/error.hpp"

namespace sdn::cli::bench {
namespace {

TEST(BenchStats, MedianOfOddAndEvenCountsIgnoresOrderAndOutliers) {
  EXPECT_DOUBLE_EQ(median({3.0, 1.0, 100.0}), 3.0);
  EXPECT_DOUBLE_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_DOUBLE_EQ(median({7.0}), 7.0);
  EXPECT_THROW(median({}), Error);
}

TEST(BenchStats, MinimumAndMaximum) {
  EXPECT_DOUBLE_EQ(minimum({2.0, -1.0, 5.0}), -1.0);
  EXPECT_DOUBLE_EQ(maximum({2.0, -1.0, 5.0}), 5.0);
  EXPECT_THROW(minimum({}), Error);
  EXPECT_THROW(maximum({}), Error);
}

TEST(BenchStats, YoungDalyPeriodMatchesTheReferenceExamples) {
  // performance.md section 5: C = 2 s, MTBF 24 h -> T ~ 9.8 min; C = 10 s -> T ~ 22 min.
  EXPECT_NEAR(young_daly_period(2, 24 * 3600) / 60, 9.80, 0.01);
  EXPECT_NEAR(young_daly_period(10, 24 * 3600) / 60, 21.91, 0.01);
}

TEST(BenchStats, OverheadIsSaveTimeOverWallTime) {
  EXPECT_DOUBLE_EQ(checkpoint_overhead(1, 9), 0.1);
  EXPECT_NEAR(checkpoint_overhead(2, 1800), 2.0 / 1802.0, 1e-15);
}

TEST(BenchStats, ExpectedWasteAddsHalfAPeriodOfReworkAndIsLowestNearTheYoungDalyPeriod) {
  const double c = 3, mtbf = 24 * 3600;
  EXPECT_NEAR(expected_waste(c, 1800, mtbf), 3.0 / 1803 + 1803.0 / (2 * mtbf), 1e-15);
  const double best = young_daly_period(c, mtbf);
  EXPECT_LT(expected_waste(c, best, mtbf), expected_waste(c, best / 2, mtbf));
  EXPECT_LT(expected_waste(c, best, mtbf), expected_waste(c, best * 2, mtbf));
}

}  // namespace
}  // namespace sdn::cli::bench

// Pure arithmetic shared by the benchmarks: robust summaries of noisy timings (median, not mean: other
// processes steal whole time slices) and the checkpoint-period model of Young (1974) / Daly (2006) that
// `sdn bench ckpt` uses to judge the default checkpoint period.
#pragma once

#include <vector>

namespace sdn::cli::bench {

// Median of `values` (mean of the two middle values for an even count). Throws sdn::Error when empty.
double median(std::vector<double> values);
// Smallest and largest value. Throw sdn::Error when empty.
double minimum(const std::vector<double>& values);
double maximum(const std::vector<double>& values);

// Young/Daly first-order optimal period between checkpoints: sqrt(2 * C * MTBF), C = checkpoint cost in seconds.
double young_daly_period(double checkpoint_seconds, double mtbf_seconds);

// Fraction of wall time spent writing checkpoints when one costing C is taken after every `period` seconds of
// training: C / (period + C).
double checkpoint_overhead(double checkpoint_seconds, double period_seconds);

// Expected fraction of wall time lost with that period and failures every `mtbf` seconds on average (first
// order, as in Young/Daly): checkpoint cost C / (period + C) plus half a period of rework per failure,
// (period + C) / (2 * MTBF). Minimal near young_daly_period().
double expected_waste(double checkpoint_seconds, double period_seconds, double mtbf_seconds);

}  // namespace sdn::cli::bench

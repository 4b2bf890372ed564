// RUN/logs/metrics.tsv, rank 0 only: one line per optimiser step, "step<TAB>name=value..." with every declared
// loss term and every phase's learning rate. On resume, lines after the checkpoint's step are dropped: they
// belong to steps the interrupted run did not keep.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace sdn::train {

class MetricsLog {
 public:
  MetricsLog(const std::string& path, std::int64_t keep_until);
  void add(std::int64_t step, const std::vector<std::pair<std::string, double>>& values);
  void flush() { out_.flush(); }

 private:
  std::ofstream out_;
};

}  // namespace sdn::train

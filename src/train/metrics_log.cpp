// Implements the per-step metrics file (see metrics_log.hpp).
#include "train/metrics_log.hpp"

#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"

namespace sdn::train {

MetricsLog::MetricsLog(const std::string& path, std::int64_t keep_until) {
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string line, kept;
    while (std::getline(in, line)) {
      std::int64_t step = 0;
      auto tab = line.find('\t');
      if (tab != std::string::npos && parse::parse_value(line.substr(0, tab), step).empty() && step <= keep_until)
        kept += line + "\n";
    }
    fs::write_atomic(path, kept);
  }
  out_.open(path, std::ios::app);
  if (!out_) throw Error("cannot append to " + path, "check that the run directory is writable");
}

void MetricsLog::add(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  char buf[160];
  out_ << step;
  for (const auto& [name, value] : values) {
    std::snprintf(buf, sizeof buf, "\t%s=%.9g", name.c_str(), value);
    out_ << buf;
  }
  out_ << "\n";
}

}  // namespace sdn::train

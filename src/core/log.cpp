// Implements rank-aware spdlog setup (see log.hpp).
#include "core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <vector>

#include "core/error.hpp"

namespace sdn::log {

bool is_valid_level(const std::string& level) {
  for (const char* l : {"trace", "debug", "info", "warn", "error", "off"})
    if (level == l) return true;
  return false;
}

void init(const LogOptions& options) {
  if (!is_valid_level(options.level))
    throw UsageError("unknown log level '" + options.level + "'", "use one of trace, debug, info, warn, error, off");
  const auto& id = process_identity();
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!options.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false));
    } catch (const spdlog::spdlog_ex& e) {
      throw Error("cannot open log file " + options.file + ": " + e.what(),
                  "check that the run directory exists and is writable");
    }
  }
  auto logger = std::make_shared<spdlog::logger>("sdn", sinks.begin(), sinks.end());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] [" + std::to_string(id.rank) + "/" +
                      std::to_string(id.world) + " " + id.host + "] %v");
  auto level = spdlog::level::from_str(options.level);
  if (id.rank != 0 && options.quiet_non_zero && level < spdlog::level::warn) level = spdlog::level::warn;
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace sdn::log

// Implements reading a run's configuration back (see run_config.hpp).
#include "train/run_config.hpp"

#include <filesystem>

#include "core/error.hpp"

namespace sdn::train {

opt::Parsed<TrainConfig> parse_run_config(const std::string& run_dir, const std::vector<std::string>& overrides) {
  const std::string ini = run_dir + "/run.ini";
  if (!std::filesystem::exists(ini))
    throw UsageError(ini + " does not exist", "point at a run directory written by `sdn train` or `sdn plan`");
  std::vector<std::string> args = {"--config", ini, "--run-dir", run_dir};
  args.insert(args.end(), overrides.begin(), overrides.end());
  return parse_train_args(args);
}

}  // namespace sdn::train

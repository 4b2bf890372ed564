// The configuration of an existing run, read back from RUN/run.ini for the commands that use a trained run
// (eval, predict, edit). A run planned by `sdn plan` has a run.ini without a run directory (the stage config as
// given): the run directory is the one the run.ini was found in.
#pragma once

#include <string>
#include <vector>

#include "train/stage_registry.hpp"

namespace sdn::train {

// Parses RUN/run.ini (UsageError naming it when missing) with `overrides` ("--key", "value", ...) on top.
opt::Parsed<TrainConfig> parse_run_config(const std::string& run_dir, const std::vector<std::string>& overrides = {});

}  // namespace sdn::train

// Where a stage's weights start (model.init_weights / init_map / init_skip): the one place that turns the
// common InitConfig into a weights import, so every stage treats the keys the same way.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "train/config.hpp"

namespace sdn::train {

// Imports `init.weights` (if set) into `module`. Without map/skip the file must be a weights file of
// `model_name` with exactly the module's keys; with them it is a mapped, strict import (models/weights_io.hpp):
// every key that does not fit is named at once. Returns a one-line report ("" when nothing was imported).
std::string import_initial_weights(torch::nn::Module& module, const std::string& model_name, const InitConfig& init);

// model.init_weights of a stage with several modules: "MODULE=FILE[,MODULE=FILE...]" (e.g. the original
// textural model's latest_net_G/E/D.pth converted by scripts/pth_to_h5.py: "netG=g.h5,netE=e.h5,netD=d.h5").
// Modules not named keep their seeded init; model.init_map / init_skip apply to every file. Returns the file of
// each named module. Throws UsageError naming the entry when it is not MODULE=FILE, names no module of
// `modules`, or names one twice, and when the value is a single FILE (which module it fills is ambiguous).
std::map<std::string, std::string> initial_weight_files(const std::string& weights,
                                                        const std::vector<std::string>& modules);

// Imports every module's file of `init.weights` (initial_weight_files) as import_initial_weights does; the
// model name each file must carry (unmapped import) is `model_name(module)`. One report line per file.
std::vector<std::string> import_initial_weights(
    const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
    const std::function<std::string(const std::string&)>& model_name, const InitConfig& init);

}  // namespace sdn::train

// Where a stage's weights start (model.init_weights / init_map / init_skip): the one place that turns the
// common InitConfig into a weights import, so every stage treats the keys the same way.
#pragma once

#include <torch/torch.h>

#include <string>

#include "train/config.hpp"

namespace sdn::train {

// Imports `init.weights` (if set) into `module`. Without map/skip the file must be a weights file of
// `model_name` with exactly the module's keys; with them it is a mapped, strict import (models/weights_io.hpp):
// every key that does not fit is named at once. Returns a one-line report ("" when nothing was imported).
std::string import_initial_weights(torch::nn::Module& module, const std::string& model_name, const InitConfig& init);

}  // namespace sdn::train

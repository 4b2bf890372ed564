// Where a stage's weights start (model.init_weights / init_map / init_skip): the one place that turns the
// common InitConfig into a weights import, so every stage treats the keys the same way.
#pragma once

#include <torch/torch.h>

#include <string>

#include "train/config.hpp"

namespace sdn::train {

// Imports `init.weights` (if set) into `module`, whose weight files carry the model name `model_name`.
void import_initial_weights(torch::nn::Module& module, const std::string& model_name, const InitConfig& init);

}  // namespace sdn::train

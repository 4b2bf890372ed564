// Implements the model.init_* import (see init_weights.hpp).
#include "train/init_weights.hpp"

#include "core/error.hpp"
#include "models/weights_io.hpp"

namespace sdn::train {

void import_initial_weights(torch::nn::Module& module, const std::string& model_name, const InitConfig& init) {
  if (init.weights.empty()) return;
  if (!init.map.empty() || !init.skip.empty())
    throw UsageError("model.init_map / model.init_skip: mapped imports are not in this build yet",
                     "convert the file so its keys equal the model's (scripts/pth_to_h5.py), or leave them empty");
  models::import_weights(module, model_name, init.weights);
}

}  // namespace sdn::train

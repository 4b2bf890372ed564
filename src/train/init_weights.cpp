// Implements the model.init_* import (see init_weights.hpp).
#include "train/init_weights.hpp"

#include "core/error.hpp"
#include "models/weights_io.hpp"

namespace sdn::train {

std::string import_initial_weights(torch::nn::Module& module, const std::string& model_name, const InitConfig& init) {
  if (init.weights.empty()) return "";
  if (init.map.empty() && init.skip.empty()) {
    models::import_weights(module, model_name, init.weights);
    return "model.init_weights: loaded " + init.weights;
  }
  models::ImportMap map;
  for (const auto& entry : init.map) map.rewrites.push_back(models::parse_prefix_rewrite(entry));
  map.skip = init.skip;
  auto report = models::import_weights_mapped(module, init.weights, map);
  return "model.init_weights: " + init.weights + ": " + report.summary();
}

}  // namespace sdn::train

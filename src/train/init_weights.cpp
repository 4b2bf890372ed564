// Implements the model.init_* import (see init_weights.hpp).
#include "train/init_weights.hpp"

#include <algorithm>

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

std::map<std::string, std::string> initial_weight_files(const std::string& weights,
                                                        const std::vector<std::string>& modules) {
  std::map<std::string, std::string> out;
  if (weights.empty()) return out;
  std::string names;
  for (const auto& m : modules) names += (names.empty() ? "" : ", ") + m;
  const std::string hint = "give one file per module: model.init_weights = " + modules.front() + "=FILE[," +
                           (modules.size() > 1 ? modules[1] : modules.front()) + "=FILE...] (modules: " + names + ")";
  if (weights.find('=') == std::string::npos)
    throw UsageError("model.init_weights: '" + weights + "' is one file, but this stage has several modules (" +
                         names + ")",
                     hint);
  size_t start = 0;
  while (start <= weights.size()) {
    const size_t comma = std::min(weights.find(',', start), weights.size());
    const std::string entry = weights.substr(start, comma - start);
    const size_t eq = entry.find('=');
    const std::string module = eq == std::string::npos ? "" : entry.substr(0, eq);
    const std::string file = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (module.empty() || file.empty())
      throw UsageError("model.init_weights: entry '" + entry + "' is not MODULE=FILE", hint);
    if (std::find(modules.begin(), modules.end(), module) == modules.end())
      throw UsageError("model.init_weights: '" + module + "' is not a module of this stage (" + names + ")", hint);
    if (!out.emplace(module, file).second)
      throw UsageError("model.init_weights: module '" + module + "' is named twice", hint);
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> import_initial_weights(
    const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
    const std::function<std::string(const std::string&)>& model_name, const InitConfig& init) {
  std::vector<std::string> names;
  for (const auto& [name, m] : modules) names.push_back(name);
  const auto files = initial_weight_files(init.weights, names);
  std::vector<std::string> reports;
  for (const auto& [name, module] : modules) {
    auto it = files.find(name);
    if (it == files.end()) continue;
    InitConfig one = init;
    one.weights = it->second;
    reports.push_back(name + ": " + import_initial_weights(*module, model_name(name), one));
  }
  return reports;
}

}  // namespace sdn::train

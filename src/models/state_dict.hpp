// The PyTorch-compatible view of a module's state: its parameters and buffers named and ordered exactly as
// torch.nn.Module.state_dict() orders them (per module: parameters, then buffers, then its children in
// registration order). Weight files, golden name lists and checkpoints all use this one view.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace sdn::models {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Parameters and buffers in state_dict order; the tensors alias the module's own.
NamedTensors state_dict(const torch::nn::Module& module);

// Number of scalar parameters (buffers excluded), as sum(p.numel() for p in model.parameters()).
int64_t parameter_count(const torch::nn::Module& module);

// "[64,3,3,3]" ("[]" for a scalar): the shape notation of the golden lists and of error messages.
std::string shape_text(torch::IntArrayRef sizes);

// One "name [d0,d1,...]" line per state_dict entry: the format of tests/golden/*.params.txt.
std::string state_dict_listing(const torch::nn::Module& module);

}  // namespace sdn::models

// Weight files exchanged with PyTorch (scripts/pth_to_h5.py and h5_to_pth.py convert to and from .pth):
// one HDF5 dataset per state_dict entry, named exactly as in PyTorch ("encoder.layer3.0.conv2.weight"),
// float32 for floating tensors and int64 for integer ones, with the tensor's shape and an attribute "order"
// (its position in the state_dict); root attributes format, format_version and model (the architecture name).
// The group-level functions let a checkpoint store a model's state in a group of its own.
#pragma once

#include <hdf5.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::models {

constexpr const char* kWeightsFormat = "sdn-weights";
constexpr std::int64_t kWeightsFormatVersion = 1;

// Writes every state_dict entry of `module` as a dataset of `group`. `what` names the file for errors.
void write_state(hid_t group, const torch::nn::Module& module, const std::string& what);

// Every difference between the datasets of `group` and the state_dict of `module`: missing entries,
// unexpected entries, wrong shapes and wrong element kinds, one line each. Empty = the group loads.
std::vector<std::string> state_mismatches(hid_t group, const torch::nn::Module& module);

// Checks, then copies every entry into the module's tensors (on whatever device they live). Throws sdn::Error
// naming `file` and listing all mismatches at once.
void read_state(hid_t group, torch::nn::Module& module, const std::string& file);

// A whole weights file (written atomically: temp file, fsync, rename).
void export_weights(const torch::nn::Module& module, const std::string& model_name, const std::string& path);

// Reads a weights file into `module`; also checks the format attributes and that the file's model name is
// `model_name` (reported together with any other mismatch).
void import_weights(torch::nn::Module& module, const std::string& model_name, const std::string& path);

// The model name stored in a weights file (for `sdn weights import` without --model).
std::string weights_model_name(const std::string& path);

}  // namespace sdn::models

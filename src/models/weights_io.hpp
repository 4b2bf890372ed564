// Weight files exchanged with PyTorch (scripts/pth_to_h5.py and h5_to_pth.py convert to and from .pth):
// one HDF5 dataset per state_dict entry, named exactly as in PyTorch ("encoder.layer3.0.conv2.weight"),
// float32 for floating tensors and int64 for integer ones, with the tensor's shape and an attribute "order"
// (its position in the state_dict); root attributes format, format_version and model (the architecture name).
// The group-level functions let a checkpoint store a model's state in a group of its own. Mapped import
// (import_weights_mapped) loads a file of another layout: renamed prefixes, keys left at their init.
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

// ---- mapped import (model.init_weights + model.init_map + model.init_skip)

// A file key starting with `from` becomes `to` + the rest of the key ("" -> "encoder." puts an ImageNet
// ResNet-50 file under encoder.; "module." -> "" drops DataParallel's prefix).
struct PrefixRewrite {
  std::string from;
  std::string to;
};

// Parses one model.init_map entry "from=to" (either side may be empty; the first '=' splits). Throws
// UsageError naming the entry when it has no '='.
PrefixRewrite parse_prefix_rewrite(const std::string& entry);

struct ImportMap {
  std::vector<PrefixRewrite> rewrites;  // applied to every file key, the first matching `from` wins
  // ECMAScript regex matched against whole keys: a model key that matches stays at its init even if the file
  // has it; a file key that matches (before or after its rewrite) is ignored. Empty: none.
  std::string skip;
  // Regex of model keys that are loaded when the file has them and otherwise stay at their init without
  // counting as missing (e.g. BatchNorm bookkeeping buffers that older files lack). Empty: none.
  std::string optional;
  bool strict = true;  // any missing, unexpected or shape-mismatched key is an error
};

// What an import did, key by key (model names; unexpected ones as "file key" or "file key -> rewritten").
struct ImportReport {
  std::vector<std::string> loaded;
  std::vector<std::string> left_at_init;  // by `skip`, or `optional` and absent from the file
  std::vector<std::string> missing;       // in the model, not in the file, not skipped
  std::vector<std::string> unexpected;    // in the file, not in the model, not skipped
  std::vector<std::string> mismatched;    // "key: [file shape] in the file, [model shape] in the model"
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // "loaded 318, left at init 4, missing 0, unexpected 0, mismatched 0" (+ the names of the last three).
  std::string summary() const;
};

// Loads the keys of `file` (an sdn weights file, e.g. from scripts/pth_to_h5.py; its model attribute is not
// checked) into `module` through `map`. Strict: throws sdn::Error listing every missing, unexpected and
// mismatched key at once, before anything is copied. Not strict: copies what fits, reports the rest.
ImportReport import_weights_mapped(torch::nn::Module& module, const std::string& file, const ImportMap& map);

}  // namespace sdn::models

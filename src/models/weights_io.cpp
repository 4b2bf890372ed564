// Implements weight-file export/import (see weights_io.hpp).
#include "models/weights_io.hpp"

#include <map>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/h5.hpp"
#include "models/state_dict.hpp"

namespace sdn::models {
namespace {

// H5Literate/H5L_info_t resolve to the current API version on HDF5 1.10 and 1.12+ alike.
herr_t collect_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

std::vector<std::string> dataset_names(hid_t group) {
  std::vector<std::string> names;
  SDN_H5_CHECK(H5Literate(group, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, collect_name, &names), "weights group");
  return names;
}

bool is_integer(const torch::Tensor& t) { return !t.is_floating_point() && !t.is_complex(); }

std::vector<int64_t> as_sizes(const std::vector<hsize_t>& dims) { return {dims.begin(), dims.end()}; }

std::string problems_text(const std::string& file, const std::string& model, const std::vector<std::string>& p) {
  std::string msg = file + " does not fit " + (model.empty() ? "the model" : "model '" + model + "'") + " (" +
                    std::to_string(p.size()) + " problem" + (p.size() == 1 ? "" : "s") + "):";
  for (const auto& line : p) msg += "\n  - " + line;
  return msg;
}

const char* kHint =
    "use weights of the same architecture and number of classes: 'sdn weights export --model NAME', or convert "
    "a PyTorch state_dict with scripts/pth_to_h5.py";

}  // namespace

void write_state(hid_t group, const torch::nn::Module& module, const std::string& what) {
  std::int64_t order = 0;
  for (const auto& [name, tensor] : state_dict(module)) {
    const bool integer = is_integer(tensor);
    auto host = tensor.detach().to(torch::kCPU, integer ? torch::kLong : torch::kFloat).contiguous();
    std::vector<hsize_t> dims(host.sizes().begin(), host.sizes().end());
    const hid_t type = integer ? h5::native<std::int64_t>() : h5::native<float>();
    auto ds = h5::create_dataset(group, name, type, dims);
    h5::write_all(ds, type, host.data_ptr(), what + ": " + name);
    h5::set_attr(ds, "order", order++);
  }
}

std::vector<std::string> state_mismatches(hid_t group, const torch::nn::Module& module) {
  std::vector<std::string> problems;
  std::map<std::string, bool> seen;
  for (const auto& name : dataset_names(group)) seen[name] = false;
  for (const auto& [name, tensor] : state_dict(module)) {
    auto it = seen.find(name);
    if (it == seen.end()) {
      problems.push_back("missing: " + name + " " + shape_text(tensor.sizes()));
      continue;
    }
    it->second = true;
    auto ds = h5::open_dataset(group, name, "weights");
    const auto dims = as_sizes(h5::dims(ds));
    if (tensor.sizes() != torch::IntArrayRef(dims))
      problems.push_back("wrong shape: " + name + " is " + shape_text(dims) + " in the file, " +
                         shape_text(tensor.sizes()) + " in the model");
    const hid_t kind = h5::stored_type_class(ds);
    const hid_t want = is_integer(tensor) ? H5T_INTEGER : H5T_FLOAT;
    if (kind != want)
      problems.push_back("wrong kind: " + name + " is " + (kind == H5T_INTEGER ? "integer" : "not integer") +
                         " in the file, " + (want == H5T_INTEGER ? "integer" : "floating point") + " in the model");
  }
  for (const auto& [name, used] : seen)
    if (!used) problems.push_back("unexpected: " + name);
  return problems;
}

void read_state(hid_t group, torch::nn::Module& module, const std::string& file) {
  auto problems = state_mismatches(group, module);
  if (!problems.empty()) throw Error(problems_text(file, "", problems), kHint);
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict(module)) {
    const bool integer = is_integer(tensor);
    auto host = torch::empty(tensor.sizes(), integer ? torch::kLong : torch::kFloat);
    auto ds = h5::open_dataset(group, name, file);
    h5::read_all(ds, integer ? h5::native<std::int64_t>() : h5::native<float>(), host.data_ptr(), file + ": " + name);
    tensor.copy_(host);
  }
}

void export_weights(const torch::nn::Module& module, const std::string& model_name, const std::string& path) {
  const std::string tmp = fs::temp_path_for(path);
  {
    auto file = h5::create_truncate(tmp);
    h5::set_attr(file, "format", std::string(kWeightsFormat));
    h5::set_attr(file, "format_version", kWeightsFormatVersion);
    h5::set_attr(file, "model", model_name);
    write_state(file, module, path);
    h5::flush(file, tmp);
  }
  fs::commit_rename(tmp, path);
}

std::string weights_model_name(const std::string& path) {
  auto file = h5::open_read(path);
  if (!h5::has_attr(file, "format") || h5::get_attr_string(file, "format", path) != kWeightsFormat)
    throw Error(path + " is not an sdn weights file (root attribute format != '" + kWeightsFormat + "')",
                "write it with 'sdn weights export' or scripts/pth_to_h5.py");
  return h5::get_attr_string(file, "model", path);
}

void import_weights(torch::nn::Module& module, const std::string& model_name, const std::string& path) {
  const std::string stored = weights_model_name(path);
  auto file = h5::open_read(path);
  const auto version = h5::get_attr_int(file, "format_version", path);
  if (version > kWeightsFormatVersion)
    throw Error(path + " has weights format version " + std::to_string(version) + "; this sdn reads up to " +
                    std::to_string(kWeightsFormatVersion),
                "use a newer sdn");
  auto problems = state_mismatches(file, module);
  if (stored != model_name)
    problems.insert(problems.begin(), "model: the file holds '" + stored + "', not '" + model_name + "'");
  if (!problems.empty()) throw Error(problems_text(path, model_name, problems), kHint);
  read_state(file, module, path);
}

}  // namespace sdn::models

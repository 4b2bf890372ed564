// Implements weight-file export/import (see weights_io.hpp).
#include "models/weights_io.hpp"

#include <map>
#include <regex>

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

// Copies dataset `name` of `group` into `tensor` (shapes already checked).
void read_into(hid_t group, const std::string& name, torch::Tensor& tensor, const std::string& file) {
  const bool integer = is_integer(tensor);
  auto host = torch::empty(tensor.sizes(), integer ? torch::kLong : torch::kFloat);
  auto ds = h5::open_dataset(group, name, file);
  h5::read_all(ds, integer ? h5::native<std::int64_t>() : h5::native<float>(), host.data_ptr(), file + ": " + name);
  torch::NoGradGuard no_grad;
  tensor.copy_(host);
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
  for (auto& [name, tensor] : state_dict(module)) read_into(group, name, tensor, file);
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

// ---- mapped import

PrefixRewrite parse_prefix_rewrite(const std::string& entry) {
  const auto eq = entry.find('=');
  if (eq == std::string::npos)
    throw UsageError("model.init_map: entry '" + entry + "' is not of the form from=to",
                     "write e.g. '=encoder.' (a bare file into encoder.) or 'module.=' (drop a prefix); either side "
                     "may be empty");
  return {entry.substr(0, eq), entry.substr(eq + 1)};
}

std::string ImportReport::summary() const {
  std::string s = "loaded " + std::to_string(loaded.size()) + ", left at init " + std::to_string(left_at_init.size()) +
                  ", missing " + std::to_string(missing.size()) + ", unexpected " +
                  std::to_string(unexpected.size()) + ", mismatched " + std::to_string(mismatched.size());
  auto list = [&](const char* what, const std::vector<std::string>& keys) {
    for (const auto& k : keys) s += std::string("\n  - ") + what + ": " + k;
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("mismatched", mismatched);
  return s;
}

namespace {

std::regex compile_key_regex(const std::string& pattern, const std::string& what) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError(what + ": '" + pattern + "' is not a valid regular expression (" + e.what() + ")",
                     "use ECMAScript syntax matched against whole keys, e.g. 'encoder\\.fc\\..*'");
  }
}

std::string rewrite_key(const std::string& key, const std::vector<PrefixRewrite>& rewrites) {
  for (const auto& r : rewrites)
    if (key.compare(0, r.from.size(), r.from) == 0) return r.to + key.substr(r.from.size());
  return key;
}

}  // namespace

ImportReport import_weights_mapped(torch::nn::Module& module, const std::string& path, const ImportMap& map) {
  weights_model_name(path);  // checks that it is an sdn weights file
  auto file = h5::open_read(path);
  const bool has_skip = !map.skip.empty(), has_optional = !map.optional.empty();
  const std::regex skip = compile_key_regex(has_skip ? map.skip : "$^", "model.init_skip");
  const std::regex optional = compile_key_regex(has_optional ? map.optional : "$^", "optional keys");
  auto skipped = [&](const std::string& key) { return has_skip && std::regex_match(key, skip); };

  ImportReport report;
  std::map<std::string, std::string> source;  // model key -> file dataset
  std::map<std::string, bool> used;
  for (const auto& name : dataset_names(file)) {
    const std::string target = rewrite_key(name, map.rewrites);
    if (skipped(name) || skipped(target)) continue;
    const auto [it, fresh] = source.emplace(target, name);
    if (!fresh)
      throw Error(path + ": file keys '" + it->second + "' and '" + name + "' both map to '" + target + "'",
                  "fix model.init_map so that every file key has its own model key");
    used[target] = false;
  }
  std::vector<std::pair<std::string, torch::Tensor>> to_load;
  for (auto& [key, tensor] : state_dict(module)) {
    if (skipped(key)) {
      report.left_at_init.push_back(key);
      continue;
    }
    auto it = source.find(key);
    if (it == source.end()) {
      if (has_optional && std::regex_match(key, optional))
        report.left_at_init.push_back(key);
      else
        report.missing.push_back(key + " " + shape_text(tensor.sizes()));
      continue;
    }
    used[key] = true;
    auto ds = h5::open_dataset(file, it->second, path);
    const auto dims = as_sizes(h5::dims(ds));
    const bool kind_ok = (h5::stored_type_class(ds) == H5T_INTEGER) == is_integer(tensor);
    if (tensor.sizes() != torch::IntArrayRef(dims) || !kind_ok) {
      report.mismatched.push_back(key + ": " + shape_text(dims) + (kind_ok ? "" : " (other element kind)") +
                                  " in the file, " + shape_text(tensor.sizes()) + " in the model");
      continue;
    }
    to_load.emplace_back(it->second, tensor);
    report.loaded.push_back(key);
  }
  for (const auto& [target, was_used] : used) {
    if (was_used) continue;
    const std::string& name = source[target];
    report.unexpected.push_back(name == target ? name : name + " -> " + target);
  }
  if (map.strict && !report.clean())
    throw Error(path + " does not fit the model under model.init_map/init_skip (" + report.summary() + ")",
                "rename file keys with model.init_map (from=to, e.g. '=encoder.'), leave keys at their init with "
                "model.init_skip (a regex over whole keys), or convert the .pth with scripts/pth_to_h5.py");
  for (auto& [name, tensor] : to_load) read_into(file, name, tensor, path);
  return report;
}

}  // namespace sdn::models

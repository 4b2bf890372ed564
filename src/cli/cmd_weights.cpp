// `sdn weights export|import`: the semantic models' PyTorch-compatible weight files (models/weights_io.hpp).
// export writes a trained model's state_dict from a checkpoint (--from), or a freshly initialised one (--seed);
// import --check proves a file (e.g. converted from an original .pth by scripts/pth_to_h5.py) loads into the
// named model. A run starts from such a file with `sdn train --model.init_weights FILE`.
#include <cstdio>
#include <string>
#include <vector>

#include "ckpt/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/options.hpp"
#include "models/segmentation_model.hpp"
#include "models/state_dict.hpp"
#include "models/weights_io.hpp"

namespace sdn::cli {
namespace {

struct ExportConfig {
  std::string from;  // a checkpoint; its model.arch and model.num_classes win over --model/--classes
  std::string model = "resnet50dilated8_ppm_deepsup";
  std::string out;
  int classes = 14;
  std::int64_t seed = 304;
};

opt::Schema<ExportConfig> export_schema() {
  opt::Schema<ExportConfig> s("weights export", "write a semantic model's weights as an HDF5 weights file");
  s.add("from", "checkpoint to export the trained model from (sdn train's RUN/ckpt/step-*.h5)",
        [](ExportConfig& c) -> auto& { return c.from; })
      .add(
       "model", "architecture (ignored with --from: the checkpoint's)", [](ExportConfig & c) -> auto& { return c.model; },
       opt::Choices(models::semantic_model_names()))
      .add(
          "out", "weights file to write (HDF5; replaced atomically)", [](ExportConfig & c) -> auto& { return c.out; })
      .add(
          "classes", "number of output classes", [](ExportConfig & c) -> auto& { return c.classes; },
          opt::Range{2, 1000})
      .add(
          "seed", "initialisation seed of the exported model", [](ExportConfig & c) -> auto& { return c.seed; },
          opt::Range{0, 9.0e15});
  return s;
}

std::vector<std::string> validate_export(const ExportConfig& c) {
  std::vector<std::string> problems;
  if (c.out.empty()) problems.push_back("out: required (the weights file to write)");
  return problems;
}

struct ImportConfig {
  std::string model;  // empty: the name stored in the file
  std::string in;
  int classes = 14;
  bool check = false;
};

opt::Schema<ImportConfig> import_schema() {
  opt::Schema<ImportConfig> s("weights import", "check that a weights file loads into a semantic model");
  s.add(
       "model", "architecture (default: the one recorded in the file)",
       [](ImportConfig & c) -> auto& { return c.model; })
      .add(
          "in", "weights file to read (from 'sdn weights export' or scripts/pth_to_h5.py)",
          [](ImportConfig & c) -> auto& { return c.in; })
      .add(
          "classes", "number of output classes", [](ImportConfig & c) -> auto& { return c.classes; },
          opt::Range{2, 1000})
      .add(
          "check", "load the file into the model and report every mismatch",
          [](ImportConfig & c) -> auto& { return c.check; });
  return s;
}

std::vector<std::string> validate_import(const ImportConfig& c) {
  std::vector<std::string> problems;
  if (c.in.empty()) problems.push_back("in: required (the weights file to read)");
  if (!c.check)
    problems.push_back(
        "check: required; 'import' verifies that the file loads (--check); to train from it, pass "
        "--model.init_weights FILE to sdn train");
  if (!c.model.empty()) {
    bool known = false;
    for (const auto& n : models::semantic_model_names()) known = known || n == c.model;
    if (!known) problems.push_back("model: unknown architecture '" + c.model + "'");
  }
  return problems;
}

int run_export(const Args& args) {
  auto parsed = parse_command(export_schema(), args, validate_export);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  models::SemanticModelOptions mo;
  mo.arch = c.model;
  mo.num_classes = c.classes;
  mo.seed = static_cast<std::uint64_t>(c.seed);
  ckpt::Checkpoint from;
  if (!c.from.empty()) {
    from = ckpt::read_checkpoint(c.from);
    for (const auto& e : from.meta.config) {  // "key = value" entries of the run's training config
      if (e.rfind("model.arch = ", 0) == 0) mo.arch = e.substr(13);
      if (e.rfind("model.num_classes = ", 0) == 0) mo.num_classes = std::stoll(e.substr(20));
    }
  }
  auto model = models::build_semantic_model(mo);
  if (!c.from.empty()) {
    torch::NoGradGuard no_grad;
    std::vector<std::string> missing;
    for (auto& [name, t] : models::state_dict(*model)) {
      auto it = from.tensors.find("model/" + name);
      if (it == from.tensors.end() || it->second.sizes() != t.sizes()) missing.push_back(name);
      else t.copy_(it->second);
    }
    if (!missing.empty())
      throw Error(c.from + " lacks " + std::to_string(missing.size()) + " model tensor(s) of " + mo.arch + ", e.g. " +
                      missing.front(),
                  "export from a checkpoint of a semantic run");
  }
  models::export_weights(*model, mo.arch, c.out);
  std::printf("wrote %zu state_dict entries (%lld parameters) of %s to %s\n", models::state_dict(*model).size(),
              static_cast<long long>(models::parameter_count(*model)), mo.arch.c_str(), c.out.c_str());
  return kExitOk;
}

int run_import(const Args& args) {
  auto parsed = parse_command(import_schema(), args, validate_import);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  models::SemanticModelOptions mo;
  mo.arch = c.model.empty() ? models::weights_model_name(c.in) : c.model;
  mo.num_classes = c.classes;
  auto model = models::build_semantic_model(mo);
  models::import_weights(*model, mo.arch, c.in);
  std::printf("%s: all %zu state_dict entries load into %s (%lld parameters)\n", c.in.c_str(),
              models::state_dict(*model).size(), mo.arch.c_str(),
              static_cast<long long>(models::parameter_count(*model)));
  return kExitOk;
}

}  // namespace

int run_weights(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf(
        "usage: sdn weights <export|import> [options]   ('sdn weights <action> --help' for its options)\n\n"
        "  export  write a semantic model's weights (PyTorch state_dict names) to an HDF5 file\n"
        "  import  --check: verify that a weights file loads into a semantic model\n\n"
        "Convert original PyTorch .pth files with scripts/pth_to_h5.py and back with scripts/h5_to_pth.py.\n");
    return args.empty() ? kExitUsage : kExitOk;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "export") return run_export(rest);
  if (args[0] == "import") return run_import(rest);
  throw UsageError("unknown action 'weights " + args[0] + "'", "use 'sdn weights export' or 'sdn weights import'");
}

}  // namespace sdn::cli

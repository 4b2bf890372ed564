// `sdn weights export|import`: PyTorch-compatible weight files of any stage's modules (models/weights_io.hpp).
// Both take the stage's own config (--config STAGE.ini, --stage, or any train key such as --model.arch), so the
// model they build is the one `sdn train` would build. export writes a trained module's state_dict from a
// checkpoint (--from, whose recorded config wins), or a freshly initialised one; import --check proves a file
// (e.g. converted from an original .pth by scripts/pth_to_h5.py) loads into it.
#include <cstdio>
#include <string>
#include <vector>

#include "ckpt/checkpoint.hpp"
#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/options.hpp"
#include "models/state_dict.hpp"
#include "models/weights_io.hpp"
#include "train/stage_registry.hpp"

namespace sdn::cli {
namespace {

struct WeightsConfig {
  train::TrainConfig train;
  std::string from;    // export: a checkpoint; its recorded config wins over --config
  std::string file;    // export: --out, import: --in
  std::string module;  // which of the stage's modules (default: its first)
  bool check = false;  // import
};

opt::Schema<WeightsConfig> weights_schema(const std::string& action, const Args& args) {
  using C = WeightsConfig;
  const bool exporting = action == "export";
  opt::Schema<C> s("weights " + action, exporting ? "write a stage module's weights as an HDF5 weights file"
                                                  : "check that a weights file loads into a stage module");
  if (exporting)
    s.add("from", "checkpoint to export the trained model from (sdn train's RUN/ckpt/step-*.h5)",
          [](C& c) -> auto& { return c.from; })
        .add("out", "weights file to write (HDF5; replaced atomically)", [](C& c) -> auto& { return c.file; });
  else
    s.add("in", "weights file to read (from 'sdn weights export' or scripts/pth_to_h5.py)",
          [](C& c) -> auto& { return c.file; })
        .add("check", "load the file into the module and report every mismatch", [](C& c) -> auto& { return c.check; });
  s.add("module", "the stage's module (default: its first, e.g. 'model')", [](C& c) -> auto& { return c.module; });
  s.include(train::train_schema(train::stage_of_args(args)), [](C& c) -> train::TrainConfig& { return c.train; });
  return s;
}

// The checkpoint's recorded training config as arguments (its model keys decide the module's shapes).
Args checkpoint_args(const ckpt::Checkpoint& c) {
  Args out;
  for (const auto& e : c.meta.config) {
    auto eq = e.find(" = ");
    if (eq == std::string::npos) continue;
    out.push_back("--" + e.substr(0, eq));
    out.push_back(e.substr(eq + 3));
  }
  return out;
}

torch::nn::Module& pick_module(train::Stage& stage, const std::string& name, std::string& chosen) {
  auto modules = stage.modules();
  std::string names;
  for (auto& [n, m] : modules) {
    names += (names.empty() ? "" : ", ") + n;
    if (name.empty() || n == name) {
      chosen = n;
      return *m;
    }
  }
  throw UsageError("module: stage '" + stage.name() + "' has no module '" + name + "' (it has " + names + ")");
}

std::unique_ptr<train::Stage> build(const train::TrainConfig& c) {
  auto problems = train::stage_spec(c.stage).validate ? train::stage_spec(c.stage).validate(c) : std::vector<std::string>{};
  if (!problems.empty()) {
    std::string msg = "invalid stage configuration:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw UsageError(msg);
  }
  return train::make_stage(c, {});
}

int run_export(const Args& given) {
  Args args = given;
  ckpt::Checkpoint from;
  for (size_t i = 0; i + 1 < given.size(); ++i)
    if (given[i] == "--from") {
      from = ckpt::read_checkpoint(given[i + 1]);
      // The run's recorded config first: later (user) arguments may still pick --module or --out.
      auto recorded = checkpoint_args(from);
      args.insert(args.begin(), recorded.begin(), recorded.end());
    }
  auto parsed = parse_command(weights_schema("export", args), args, [](const WeightsConfig& c) {
    std::vector<std::string> p;
    if (c.file.empty()) p.push_back("out: required (the weights file to write)");
    return p;
  });
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  auto stage = build(c.train);
  std::string name;
  auto& module = pick_module(*stage, c.module, name);
  if (!c.from.empty()) {
    torch::NoGradGuard no_grad;
    std::vector<std::string> missing;
    for (auto& [key, t] : models::state_dict(module)) {
      auto it = from.tensors.find(name + "/" + key);
      if (it == from.tensors.end() || it->second.sizes() != t.sizes()) missing.push_back(key);
      else t.copy_(it->second);
    }
    if (!missing.empty())
      throw Error(c.from + " lacks " + std::to_string(missing.size()) + " tensor(s) of module '" + name + "', e.g. " +
                      missing.front(),
                  "export from a checkpoint of a " + c.train.stage + " run");
  }
  const std::string model_name = stage->weights_name(name);
  models::export_weights(module, model_name, c.file);
  std::printf("wrote %zu state_dict entries (%lld parameters) of %s to %s\n", models::state_dict(module).size(),
              static_cast<long long>(models::parameter_count(module)), model_name.c_str(), c.file.c_str());
  return kExitOk;
}

int run_import(const Args& args) {
  auto parsed = parse_command(weights_schema("import", args), args, [](const WeightsConfig& c) {
    std::vector<std::string> p;
    if (c.file.empty()) p.push_back("in: required (the weights file to read)");
    if (!c.check)
      p.push_back("check: required; 'import' verifies that the file loads (--check); to train from it, pass "
                  "--model.init_weights FILE to sdn train");
    return p;
  });
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  auto stage = build(c.train);
  std::string name;
  auto& module = pick_module(*stage, c.module, name);
  const std::string model_name = stage->weights_name(name);
  models::import_weights(module, model_name, c.file);
  std::printf("%s: all %zu state_dict entries load into %s (%lld parameters)\n", c.file.c_str(),
              models::state_dict(module).size(), model_name.c_str(), static_cast<long long>(models::parameter_count(module)));
  return kExitOk;
}

}  // namespace

int run_weights(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf(
        "usage: sdn weights <export|import> [--config STAGE.ini] [options]   ('sdn weights <action> --help')\n\n"
        "  export  write a stage module's weights (PyTorch state_dict names) to an HDF5 file\n"
        "  import  --check: verify that a weights file loads into a stage module\n\n"
        "Both build the module from the stage's config (--config configs/semantic.ini, or --stage and its keys).\n"
        "Convert original PyTorch .pth files with scripts/pth_to_h5.py and back with scripts/h5_to_pth.py.\n");
    return args.empty() ? kExitUsage : kExitOk;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "export") return run_export(rest);
  if (args[0] == "import") return run_import(rest);
  throw UsageError("unknown action 'weights " + args[0] + "'", "use 'sdn weights export' or 'sdn weights import'");
}

}  // namespace sdn::cli

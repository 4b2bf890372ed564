// Implements the stage registry and the per-stage train schema (see stage_registry.hpp).
#include "train/stage_registry.hpp"

#include <deque>
#include <map>
#include <mutex>

#include "train/stages/derender_stage.hpp"
#include "train/stages/maskrcnn_stage.hpp"
#include "train/stages/semantic_stage.hpp"
#include "train/stages/textural_stage.hpp"

namespace sdn::train {
namespace {

struct Registry {
  std::mutex mu;
  std::deque<StageSpec> specs;  // deque: references handed out stay valid when a stage is added
  std::map<std::string, std::unique_ptr<opt::Schema<TrainConfig>>> schemas;
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;  // never destroyed: stages may be looked up during static destruction
    // The built-in stages, in the order `--help` lists them.
    reg->specs.push_back(semantic_stage_spec());
    reg->specs.push_back(maskrcnn_stage_spec());
    reg->specs.push_back(derender_stage_spec());
    reg->specs.push_back(textural_stage_spec());
    return reg;
  }();
  return *r;
}

std::string names_text() {
  std::string s;
  for (const auto& n : stage_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::vector<std::string> stage_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> out;
  for (const auto& s : r.specs) out.push_back(s.name);
  return out;
}

const StageSpec& stage_spec(const std::string& name) {
  auto& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (const auto& s : r.specs)
      if (s.name == name) return s;
  }
  throw UsageError("stage '" + name + "' is not known to this sdn (stages: " + names_text() + ")",
                   "set `stage =` in the config file or --stage to one of them");
}

void register_stage(StageSpec spec) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.schemas.erase(spec.name);
  for (auto& s : r.specs)
    if (s.name == spec.name) {
      s = std::move(spec);
      return;
    }
  r.specs.push_back(std::move(spec));
}

const opt::Schema<TrainConfig>& train_schema(const std::string& stage) {
  const StageSpec& spec = stage_spec(stage);
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.schemas[stage];
  if (!slot) {
    TrainConfig prototype;
    prototype.stage = stage;
    prototype.stage_options = spec.default_options;
    std::string names;
    for (const auto& s : r.specs) names += (names.empty() ? "" : "|") + s.name;
    slot = std::make_unique<opt::Schema<TrainConfig>>(
        "train",
        "Train a 3D-SDN branch (this help: stage '" + stage + "', " + spec.summary +
            "). Launch with srun/mpirun for several ranks, or run as one process.\n"
            "Exit codes: 0 complete, 3 stopped early with a valid checkpoint (resume by running again), other = failure.\n"
            "`sdn train --stage NAME --help` (or --config FILE --help) shows another stage's keys.",
        prototype);
    std::vector<std::string> choices;
    for (const auto& s : r.specs) choices.push_back(s.name);
    slot->add("stage", "branch to train (" + names + ")", [](TrainConfig& c) -> auto& { return c.stage; },
              opt::Choices(choices));
    add_common_options(*slot);
    spec.add_options(*slot);
  }
  return *slot;
}

std::string stage_of_args(const std::vector<std::string>& args) {
  return opt::peek_value("stage", args).value_or(TrainConfig{}.stage);
}

opt::Parsed<TrainConfig> parse_train_args(const std::vector<std::string>& args) {
  std::function<std::vector<std::string>(const TrainConfig&)> v = validate;
  return opt::parse(train_schema(stage_of_args(args)), args, v);
}

std::vector<std::string> validate(const TrainConfig& c) {
  auto e = validate_common(c);
  const auto& spec = stage_spec(c.stage);
  if (spec.validate)
    for (auto& p : spec.validate(c)) e.push_back(std::move(p));
  return e;
}

std::vector<std::string> validate_for_world(const TrainConfig& c, int world) {
  auto e = validate_common_for_world(c, world);
  const auto& spec = stage_spec(c.stage);
  if (spec.validate_for_world)
    for (auto& p : spec.validate_for_world(c, world)) e.push_back(std::move(p));
  return e;
}

std::vector<std::string> resume_entries(const TrainConfig& c) {
  const auto& spec = stage_spec(c.stage);
  std::vector<std::string> out;
  for (const auto& o : train_schema(c.stage).options()) {
    if (is_neutral_key(o.key, resume_neutral_keys()) || is_neutral_key(o.key, spec.resume_neutral_keys)) continue;
    out.push_back(o.key + " = " + o.format(c));
  }
  return out;
}

std::unique_ptr<Stage> make_stage(const TrainConfig& c, const StageContext& ctx) { return stage_spec(c.stage).make(c, ctx); }

}  // namespace sdn::train

// The stage registry: `stage = NAME` picks a StageSpec, which declares the stage's own config sections (keys,
// defaults, validation, resume-neutral keys) and builds the Stage. Every command that builds a model (train,
// eval, predict, weights, bench step|ckpt) goes through here, so no command names a concrete stage.
#pragma once

#include <any>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/options.hpp"
#include "dist/collectives.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"

namespace sdn::train {

// What a stage needs from the outside when it is built.
struct StageContext {
  torch::Device device = torch::kCPU;
  dist::CrossRankSum cross_rank_sum;  // sums a tensor over the ranks (SyncBN); empty in one process
  int rank = 0, world = 1;            // this process among the training ranks
};

// The stage's learning-rate knobs that train.scale_recipe scales (the common part scales batch and steps).
struct RecipeKnobs {
  double* lr = nullptr;                 // base learning rate
  std::int64_t* warmup_steps = nullptr; // linear warm-up steps
};

struct StageSpec {
  std::string name;
  std::string summary;                 // one line for --help
  std::any default_options;            // the stage's options struct with its defaults
  std::function<void(opt::Schema<TrainConfig>&)> add_options;  // binds its keys into stage_options
  std::function<std::vector<std::string>(const TrainConfig&)> validate;                  // may be empty
  std::function<std::vector<std::string>(const TrainConfig&, int world)> validate_for_world;  // may be empty
  std::vector<std::string> resume_neutral_keys;  // its own paths etc. (see config.hpp resume_neutral_keys)
  std::function<RecipeKnobs(TrainConfig&)> recipe_knobs;  // empty: train.scale_recipe is refused for this stage
  std::function<std::unique_ptr<Stage>(const TrainConfig&, const StageContext&)> make;
};

// Registered stage names, in registration order (the built-in ones first).
std::vector<std::string> stage_names();
// The spec of `name`; UsageError naming the registered stages otherwise.
const StageSpec& stage_spec(const std::string& name);
// Adds a stage (tests and out-of-tree stages); a second spec of the same name replaces the first.
void register_stage(StageSpec spec);

// The full schema of `sdn train` for `stage`: common keys + the stage's sections (built once per stage).
const opt::Schema<TrainConfig>& train_schema(const std::string& stage);
// The stage named by `args` (--stage, or `stage =` in a --config file; default "semantic").
std::string stage_of_args(const std::vector<std::string>& args);
// Parses `args` with the schema of the stage they name, validating common and stage sections.
opt::Parsed<TrainConfig> parse_train_args(const std::vector<std::string>& args);

// Every problem that needs no data or ranks; and those that depend on the world size.
std::vector<std::string> validate(const TrainConfig& c);
std::vector<std::string> validate_for_world(const TrainConfig& c, int world_size);

// "key = value" of every key of the stage's schema except the resume-neutral ones: what the checkpoint's config
// digest covers. An allow-list would silently ignore a new section; this deny-list cannot.
std::vector<std::string> resume_entries(const TrainConfig& c);

// Builds the configured stage.
std::unique_ptr<Stage> make_stage(const TrainConfig& c, const StageContext& ctx);

}  // namespace sdn::train

// The pipeline config (configs/pipeline.ini): which 3D-SDN stages run, from which stage configs, in which job
// shapes, with which throughput source, fed by which earlier stage's outputs; and the job graph that follows.
// Pure: parsing with file:line problems, the graph in dependency order, and each stage's config with its inputs
// written in (what `sdn pipeline plan` hands to `sdn plan`).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "slurm/ini_doc.hpp"

namespace sdn::slurm {

// `input.<trainer key> = <stage>:checkpoint | <stage>:predict`: the key is set to that stage's run directory
// (its newest checkpoint) or its prediction directory.
struct StageInput {
  std::string key;
  std::string from;
  std::string what;  // checkpoint | predict
};

struct PipelineStage {
  std::string name;                    // [stage.NAME]
  std::string config;                  // stage config, absolute
  std::string stage_kind;              // the config's `stage = ...` (semantic, maskrcnn, derender, textural)
  std::string branch;                  // semantic | geometric | textural (estimate subtotals)
  std::vector<StageInput> inputs;
  std::vector<std::string> after;      // ordering without a data input
  std::vector<std::pair<std::string, std::string>> set;  // `set.<trainer key> = value`
  // Planning (the options of `sdn plan`; empty/0 = the pipeline's or the planner's default).
  std::string mode;
  std::string partition;
  std::vector<int> gpus;
  std::string walltime;
  std::string throughput;              // a run's journal.jsonl or a bench JSON
  double images_per_s = 0;             // a stated estimate per GPU
  std::string estimate_note;           // where the stated estimate comes from (printed in the estimate table)
  std::int64_t steps = 0;
  int max_chunks = 0;
  std::string scale_recipe;
  std::string train_command;           // empty: the pipeline's, else `<sdn> train`
  // The prediction job after training (none when predict_splits is empty).
  std::vector<std::string> predict_splits;
  std::string predict_partition;       // empty: the training's partition
  std::int64_t predict_walltime_s = 3600;
  std::int64_t predict_estimate_s = 0;  // stated duration for ETA and estimates (0: its time limit)
};

struct PipelineSpec {
  std::string origin;                  // the file
  std::string name = "3dsdn";
  std::string cluster = "local";
  std::string mode = "requeue";
  std::string account;
  std::string walltime;
  std::string shards;                  // [data] shards of every stage (empty: each stage config's own)
  std::string sdn_command;
  std::string train_command;           // wrappers (a container, a test stand-in); empty: `<sdn> train`
  std::string predict_command;         // empty: `<sdn> predict`
  std::vector<PipelineStage> stages;   // in dependency order (a stage after everything it reads)

  const PipelineStage* find(const std::string& name) const;
};

// Parses and validates the whole file: unknown keys, stages and splits, inputs that name no stage or a stage
// without predictions, cycles, unreadable stage configs. Relative paths are taken from `base_dir` (the file's
// directory). Throws one UsageError listing every problem with file:line.
PipelineSpec parse_pipeline(IniDoc doc, const std::string& base_dir);
PipelineSpec load_pipeline(const std::string& path);

// The spec as INI text that parse_pipeline reads back to the same spec (PIPE/pipeline.ini, with each stage's
// config pointing at its copy in PIPE/stages/).
std::string render_pipeline(const PipelineSpec& spec);

// A node of the job graph: a stage's training ("semantic") or its prediction ("semantic.predict").
struct GraphNode {
  std::string id;
  std::string stage;
  bool predict = false;
  std::vector<std::string> deps;       // node ids this one waits for
};

// Every node in dependency order: a training waits for the nodes its inputs name and its `after` stages; a
// prediction waits for its training.
std::vector<GraphNode> pipeline_graph(const PipelineSpec& spec);

// Where a node lives in the pipeline directory: each stage is an ordinary run directory PIPE/<stage>, its
// predictions go to PIPE/<stage>/predict.
std::string stage_run_dir(const std::string& pipeline_dir, const std::string& stage);
std::string stage_predict_dir(const std::string& pipeline_dir, const std::string& stage);

// The stage config text with the pipeline's shards, the stage's `set.` values and its inputs (as paths in
// `pipeline_dir`) written into the trainer's keys.
std::string stage_config_text(const std::string& config_text, const PipelineSpec& spec, const PipelineStage& stage,
                              const std::string& pipeline_dir);

}  // namespace sdn::slurm

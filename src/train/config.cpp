// Implements the common train config keys and their validation (see config.hpp).
#include "train/config.hpp"

namespace sdn::train {
namespace {

bool known_signal(const std::string& s) { return s == "USR1" || s == "USR2" || s == "TERM" || s == "INT"; }

}  // namespace

std::int64_t TrainConfig::total_steps(std::int64_t dataset_size) const {
  const std::int64_t per_epoch =
      train.iterations_per_epoch > 0 ? train.iterations_per_epoch : dataset_size / std::max<std::int64_t>(1, train.global_batch);
  return train.epochs * per_epoch;
}

void add_common_options(opt::Schema<TrainConfig>& s) {
  using C = TrainConfig;
  s.add("run-dir", "run directory (run.ini, ckpt/, logs/, journal.jsonl)", [](C& c) -> auto& { return c.run_dir; })
      .add("log-level", "trace|debug|info|warn|error|off", [](C& c) -> auto& { return c.log_level; },
           opt::Choices{"trace", "debug", "info", "warn", "error", "off"})
      .add("data.shards", "shard directory from `sdn pack`", [](C& c) -> auto& { return c.data.shards; })
      .add("data.split", "split to train on", [](C& c) -> auto& { return c.data.split; })
      .add("data.eval_split", "split to evaluate on", [](C& c) -> auto& { return c.data.eval_split; })
      .add("data.threads", "loader threads per rank", [](C& c) -> auto& { return c.data.threads; }, opt::Range{1, 64})
      .add("data.prefetch", "global steps loaded ahead", [](C& c) -> auto& { return c.data.prefetch; }, opt::Range{1, 64})
      .add("data.stage_to", "node-local directory to copy the shards to once per node before training, e.g. "
                            "/scratch/$USER/job_$SLURM_JOB_ID (empty: read data.shards directly)",
           [](C& c) -> auto& { return c.data.stage_to; })
      .add("dist.timeout_seconds", "end the job when a collective waits longer than this (a peer died or hangs; 0: off)",
           [](C& c) -> auto& { return c.dist.timeout_seconds; }, opt::Range{0, 1e7})
      .add("model.init_weights", "HDF5 weights to start from (empty: seeded init; a stage with several modules: "
           "MODULE=FILE,MODULE=FILE...)",
           [](C& c) -> auto& { return c.init.weights; })
      .add("model.init_map", "prefix rewrites of the weights file's keys, from=to (e.g. =encoder.)",
           [](C& c) -> auto& { return c.init.map; })
      .add("model.init_skip", "regex of model keys that keep their seeded init (not loaded)",
           [](C& c) -> auto& { return c.init.skip; })
      .add("train.epochs", "epochs", [](C& c) -> auto& { return c.train.epochs; }, opt::Range{1, 1e9})
      .add("train.iterations_per_epoch", "steps per epoch (0: one pass over the items)",
           [](C& c) -> auto& { return c.train.iterations_per_epoch; }, opt::Range{0, 1e12})
      .add("train.global_batch", "samples per optimiser step over all ranks",
           [](C& c) -> auto& { return c.train.global_batch; }, opt::Range{1, 1e6})
      .add("train.per_rank_batch", "samples per rank per micro-batch", [](C& c) -> auto& { return c.train.per_rank_batch; },
           opt::Range{1, 1e6})
      .add("train.seed", "seed of init, order and augmentation", [](C& c) -> auto& { return c.train.seed; })
      .add("train.log_every", "steps between progress lines", [](C& c) -> auto& { return c.train.log_every; },
           opt::Range{1, 1e9})
      .add("train.eval_every", "steps between evaluations (0: off)", [](C& c) -> auto& { return c.train.eval_every; },
           opt::Range{0, 1e12})
      .add("train.eval_samples", "samples per periodic evaluation (0: all)",
           [](C& c) -> auto& { return c.train.eval_samples; }, opt::Range{0, 1e12})
      .add("train.threads", "LibTorch threads per rank", [](C& c) -> auto& { return c.train.threads; }, opt::Range{1, 256})
      .add("train.device", "auto|cpu|cuda", [](C& c) -> auto& { return c.train.device; },
           opt::Choices{"auto", "cpu", "cuda"})
      .add("train.scale_recipe", "scale the recipe to the ranks at start: global batch = ranks x per_rank_batch, lr "
           "by the linear rule (with warm-up) or sqrt, steps to the same images (none|linear|sqrt)",
           [](C& c) -> auto& { return c.train.scale_recipe; }, opt::Choices{"none", "linear", "sqrt"})
      .add("train.deterministic", "cuDNN deterministic algorithms, no autotuning (bit-exact resume on GPU)",
           [](C& c) -> auto& { return c.train.deterministic; })
      .add("ckpt.every_steps", "checkpoint every N steps (0: off)", [](C& c) -> auto& { return c.ckpt.every_steps; },
           opt::Range{0, 1e12})
      .add("ckpt.every_minutes", "checkpoint every T minutes (0: off)", [](C& c) -> auto& { return c.ckpt.every_minutes; },
           opt::Range{0, 1e6})
      .add("ckpt.keep_last", "checkpoints kept", [](C& c) -> auto& { return c.ckpt.keep_last; }, opt::Range{1, 1000})
      .add("ckpt.milestone_every", "also keep multiples of this step (0: none)",
           [](C& c) -> auto& { return c.ckpt.milestone_every; }, opt::Range{0, 1e12})
      .add("ckpt.force_resume", "resume although the training config differs",
           [](C& c) -> auto& { return c.ckpt.force_resume; })
      .add("stop.signals", "signals that request a checkpoint and exit 3", [](C& c) -> auto& { return c.stop.signals; })
      .add("stop.deadline", "job end as UNIX time (0: ask Slurm inside a job, else none)",
           [](C& c) -> auto& { return c.stop.deadline; }, opt::Range{0, 1e12})
      .add("stop.margin_seconds", "safety margin before the deadline", [](C& c) -> auto& { return c.stop.margin_seconds; },
           opt::Range{0, 1e6})
      .add("stop.max_steps_this_run", "stop with exit 3 after this many steps (0: no limit)",
           [](C& c) -> auto& { return c.stop.max_steps_this_run; }, opt::Range{0, 1e12});
}

std::vector<std::string> validate_common(const TrainConfig& c) {
  std::vector<std::string> e;
  if (c.run_dir.empty()) e.push_back("run-dir: required (where checkpoints, logs and the journal go)");
  if (c.data.shards.empty()) e.push_back("data.shards: required (the directory written by `sdn pack`)");
  if (c.train.global_batch % c.train.per_rank_batch != 0)
    e.push_back("train.global_batch (" + std::to_string(c.train.global_batch) +
                ") must be a multiple of train.per_rank_batch (" + std::to_string(c.train.per_rank_batch) + ")");
  for (const auto& s : c.stop.signals)
    if (!known_signal(s)) e.push_back("stop.signals: unknown signal '" + s + "' (accepted: USR1, USR2, TERM, INT)");
  for (const auto& m : c.init.map)
    if (m.find('=') == std::string::npos)
      e.push_back("model.init_map: '" + m + "' is not a rewrite 'from=to' (e.g. '=encoder.' prefixes every key)");
  if (!c.init.map.empty() && c.init.weights.empty()) e.push_back("model.init_map: needs model.init_weights");
  return e;
}

std::vector<std::string> validate_common_for_world(const TrainConfig& c, int world) {
  std::vector<std::string> e;
  const std::int64_t per_step = static_cast<std::int64_t>(world) * c.train.per_rank_batch;
  if (c.train.global_batch % per_step != 0)
    e.push_back("train.global_batch (" + std::to_string(c.train.global_batch) + ") must be a multiple of ranks (" +
                std::to_string(world) + ") x train.per_rank_batch (" + std::to_string(c.train.per_rank_batch) +
                "); gradient accumulation covers the rest");
  return e;
}

const std::vector<std::string>& resume_neutral_keys() {
  // The micro-batch split is neutral because the global batch, order and augmentation are not (elastic resume).
  // model.init_* only matter at step 0: a resumed run takes its weights from the checkpoint.
  static const std::vector<std::string> k = {
      "run-dir",        "log-level",     "data.shards",      "data.eval_split",   "data.threads",
      "data.prefetch",  "data.stage_to", "dist.", "model.init_weights", "model.init_map", "model.init_skip", "train.per_rank_batch",
      "train.log_every", "train.eval_every", "train.eval_samples", "train.threads", "train.device",
      "train.deterministic", "ckpt.",   "stop.",
      // applied before training and written back as none: the scaled keys themselves are in the digest
      "train.scale_recipe"};
  return k;
}

bool is_neutral_key(const std::string& key, const std::vector<std::string>& neutral) {
  for (const auto& n : neutral) {
    if (!n.empty() && n.back() == '.' ? key.rfind(n, 0) == 0 : key == n) return true;
  }
  return false;
}

}  // namespace sdn::train

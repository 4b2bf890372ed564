// Implements the train config schema and its validation (see config.hpp).
#include "train/config.hpp"

#include <csignal>

#include "models/segmentation_model.hpp"

namespace sdn::train {
namespace {

bool known_signal(const std::string& s) { return s == "USR1" || s == "USR2" || s == "TERM" || s == "INT"; }

// Keys under these sections (plus the stage) change the training math; the rest (paths, logging,
// checkpoint cadence, stop policy, threads) do not.
const std::vector<std::string> kRelevantSections = {"model.", "optim.", "augment.", "train."};
const std::vector<std::string> kIrrelevantKeys = {"train.per_rank_batch", "train.log_every", "train.eval_every", "train.eval_samples",
                                                  "train.threads", "train.device",
                                                  // applied before training and reset to none (the scaled keys count)
                                                  "train.scale_recipe"};

}  // namespace

std::int64_t TrainConfig::total_steps(std::int64_t dataset_size) const {
  const std::int64_t per_epoch =
      train.iterations_per_epoch > 0 ? train.iterations_per_epoch : dataset_size / std::max<std::int64_t>(1, train.global_batch);
  return train.epochs * per_epoch;
}

const opt::Schema<TrainConfig>& train_schema() {
  static const opt::Schema<TrainConfig> s = [] {
    using C = TrainConfig;
    opt::Schema<C> s("train", "Train a 3D-SDN branch. Launch with srun/mpirun for several ranks, or run as one process.\n"
                              "Exit codes: 0 complete, 3 stopped early with a valid checkpoint (resume by running again), "
                              "other = failure.");
    s.add("stage", "branch to train", [](C& c) -> auto& { return c.stage; }, opt::Choices{"semantic"})
        .add("run-dir", "run directory (run.ini, ckpt/, logs/, journal.jsonl)", [](C& c) -> auto& { return c.run_dir; })
        .add("log-level", "trace|debug|info|warn|error|off", [](C& c) -> auto& { return c.log_level; },
             opt::Choices{"trace", "debug", "info", "warn", "error", "off"})
        .add("data.shards", "shard directory from `sdn pack`", [](C& c) -> auto& { return c.data.shards; })
        .add("data.split", "split to train on", [](C& c) -> auto& { return c.data.split; })
        .add("data.eval_split", "split to evaluate on", [](C& c) -> auto& { return c.data.eval_split; })
        .add("data.threads", "loader threads per rank", [](C& c) -> auto& { return c.data.threads; }, opt::Range{1, 64})
        .add("data.prefetch", "global steps loaded ahead", [](C& c) -> auto& { return c.data.prefetch; }, opt::Range{1, 64})
        .add("model.arch", "semantic model", [](C& c) -> auto& { return c.model.arch; },
             opt::Choices(models::semantic_model_names()))
        .add("model.num_classes", "output classes (3D-SDN: 14)", [](C& c) -> auto& { return c.model.num_classes; },
             opt::Range{2, 256})
        .add("model.init_weights", "HDF5 weights to start from (empty: seeded init)",
             [](C& c) -> auto& { return c.model.init_weights; })
        .add("model.sync_bn", "synchronise BatchNorm statistics across ranks", [](C& c) -> auto& { return c.model.sync_bn; })
        .add("optim.lr", "base learning rate", [](C& c) -> auto& { return c.optim.lr; }, opt::Range{0, 10})
        .add("optim.momentum", "SGD momentum", [](C& c) -> auto& { return c.optim.momentum; }, opt::Range{0, 1})
        .add("optim.weight_decay", "SGD weight decay", [](C& c) -> auto& { return c.optim.weight_decay; }, opt::Range{0, 1})
        .add("optim.lr_power", "poly decay power", [](C& c) -> auto& { return c.optim.lr_power; }, opt::Range{0, 10})
        .add("optim.warmup_steps", "linear lr warm-up over the first N steps (0: none)",
             [](C& c) -> auto& { return c.optim.warmup_steps; }, opt::Range{0, 1e15})
        .add("optim.deep_sup_scale", "weight of the deep-supervision loss",
             [](C& c) -> auto& { return c.optim.deep_sup_scale; }, opt::Range{0, 10})
        .add("augment.short_sides", "random short side choices (empty: no rescale)",
             [](C& c) -> auto& { return c.augment.short_sides; })
        .add("augment.max_long_side", "cap on the long side", [](C& c) -> auto& { return c.augment.max_long_side; },
             opt::Range{8, 100000})
        .add("augment.flip", "random horizontal flip", [](C& c) -> auto& { return c.augment.flip; })
        .add("augment.brightness", "colour jitter", [](C& c) -> auto& { return c.augment.brightness; }, opt::Range{0, 1})
        .add("augment.contrast", "colour jitter", [](C& c) -> auto& { return c.augment.contrast; }, opt::Range{0, 1})
        .add("augment.saturation", "colour jitter", [](C& c) -> auto& { return c.augment.saturation; }, opt::Range{0, 1})
        .add("augment.hue", "colour jitter", [](C& c) -> auto& { return c.augment.hue; }, opt::Range{0, 0.5})
        .add("train.epochs", "epochs", [](C& c) -> auto& { return c.train.epochs; }, opt::Range{1, 1e9})
        .add("train.iterations_per_epoch", "steps per epoch (0: one pass over the shards)",
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
        .add("train.scale_recipe", "scale the recipe to the ranks at start: global batch = ranks x per_rank_batch, lr "
             "by the linear rule (with warm-up) or sqrt, steps to the same images (none|linear|sqrt)",
             [](C& c) -> auto& { return c.train.scale_recipe; }, opt::Choices{"none", "linear", "sqrt"})
        .add("train.device", "auto|cpu|cuda", [](C& c) -> auto& { return c.train.device; },
             opt::Choices{"auto", "cpu", "cuda"})
        .add("ckpt.every_steps", "checkpoint every N steps (0: off)", [](C& c) -> auto& { return c.ckpt.every_steps; },
             opt::Range{0, 1e12})
        .add("ckpt.every_minutes", "checkpoint every T minutes (0: off)",
             [](C& c) -> auto& { return c.ckpt.every_minutes; }, opt::Range{0, 1e6})
        .add("ckpt.keep_last", "checkpoints kept", [](C& c) -> auto& { return c.ckpt.keep_last; }, opt::Range{1, 1000})
        .add("ckpt.milestone_every", "also keep multiples of this step (0: none)",
             [](C& c) -> auto& { return c.ckpt.milestone_every; }, opt::Range{0, 1e12})
        .add("ckpt.force_resume", "resume although the training config differs",
             [](C& c) -> auto& { return c.ckpt.force_resume; })
        .add("ckpt.kill_at_phase", "TEST ONLY: SIGKILL at this write phase (created|tensors|meta|flushed|renamed)",
             [](C& c) -> auto& { return c.ckpt.kill_at_phase; },
             opt::Choices{"", "created", "tensors", "meta", "flushed", "renamed"})
        .add("stop.signals", "signals that request a checkpoint and exit 3", [](C& c) -> auto& { return c.stop.signals; })
        .add("stop.deadline", "job end as UNIX time (0: ask Slurm inside a job, else none)",
             [](C& c) -> auto& { return c.stop.deadline; }, opt::Range{0, 1e12})
        .add("stop.margin_seconds", "safety margin before the deadline", [](C& c) -> auto& { return c.stop.margin_seconds; },
             opt::Range{0, 1e6})
        .add("stop.max_steps_this_run", "stop with exit 3 after this many steps (0: no limit)",
             [](C& c) -> auto& { return c.stop.max_steps_this_run; }, opt::Range{0, 1e12});
    return s;
  }();
  return s;
}

std::vector<std::string> validate(const TrainConfig& c) {
  std::vector<std::string> e;
  if (c.run_dir.empty()) e.push_back("run-dir: required (where checkpoints, logs and the journal go)");
  if (c.data.shards.empty()) e.push_back("data.shards: required (the directory written by `sdn pack`)");
  if (c.train.global_batch % c.train.per_rank_batch != 0)
    e.push_back("train.global_batch (" + std::to_string(c.train.global_batch) +
                ") must be a multiple of train.per_rank_batch (" + std::to_string(c.train.per_rank_batch) + ")");
  for (const auto& s : c.stop.signals)
    if (!known_signal(s)) e.push_back("stop.signals: unknown signal '" + s + "' (accepted: USR1, USR2, TERM, INT)");
  for (int side : c.augment.short_sides)
    if (side < 8) e.push_back("augment.short_sides: " + std::to_string(side) + " is below 8 pixels");
  return e;
}

std::vector<std::string> validate_for_world(const TrainConfig& c, int world) {
  std::vector<std::string> e;
  const std::int64_t per_step = static_cast<std::int64_t>(world) * c.train.per_rank_batch;
  if (c.train.global_batch % per_step != 0)
    e.push_back("train.global_batch (" + std::to_string(c.train.global_batch) + ") must be a multiple of ranks (" +
                std::to_string(world) + ") x train.per_rank_batch (" + std::to_string(c.train.per_rank_batch) +
                "); gradient accumulation covers the rest");
  auto bn = models::batch_norm_batch_problem(c.model.arch, c.train.per_rank_batch, c.model.sync_bn ? world : 1);
  if (!bn.empty()) e.push_back(bn);
  return e;
}

std::vector<std::string> relevant_entries(const TrainConfig& c) {
  std::vector<std::string> out{"stage = " + c.stage};
  for (const auto& o : train_schema().options()) {
    bool relevant = false;
    for (const auto& sec : kRelevantSections) relevant |= o.key.rfind(sec, 0) == 0;
    for (const auto& k : kIrrelevantKeys) relevant &= o.key != k;
    // A warm-up of 0 is the behaviour from before the key existed: leave it out, so older checkpoints still match.
    if (o.key == "optim.warmup_steps" && c.optim.warmup_steps == 0) relevant = false;
    if (relevant) out.push_back(o.key + " = " + o.format(c));
  }
  return out;
}

}  // namespace sdn::train

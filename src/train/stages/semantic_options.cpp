// Implements the semantic stage's config keys and validation (see semantic_options.hpp).
#include "train/stages/semantic_options.hpp"

#include "models/segmentation_model.hpp"

namespace sdn::train {
namespace {

SemanticOptions& so(TrainConfig& c) { return stage_options<SemanticOptions>(c); }

}  // namespace

void add_semantic_options(opt::Schema<TrainConfig>& s) {
  using C = TrainConfig;
  s.add("model.arch", "semantic model", [](C& c) -> auto& { return so(c).model.arch; },
        opt::Choices(models::semantic_model_names()))
      .add("model.num_classes", "output classes (3D-SDN: 14)", [](C& c) -> auto& { return so(c).model.num_classes; },
           opt::Range{2, 256})
      .add("model.sync_bn", "synchronise BatchNorm statistics across ranks", [](C& c) -> auto& { return so(c).model.sync_bn; })
      .add("model.encoder_weights", "HDF5 ImageNet encoder to start from (resnet50-imagenet.pth via pth_to_h5.py)",
           [](C& c) -> auto& { return so(c).model.encoder_weights; })
      .add("optim.lr", "base learning rate", [](C& c) -> auto& { return so(c).optim.lr; }, opt::Range{0, 10})
      .add("optim.momentum", "SGD momentum", [](C& c) -> auto& { return so(c).optim.momentum; }, opt::Range{0, 1})
      .add("optim.weight_decay", "SGD weight decay", [](C& c) -> auto& { return so(c).optim.weight_decay; }, opt::Range{0, 1})
      .add("optim.lr_power", "poly decay power", [](C& c) -> auto& { return so(c).optim.lr_power; }, opt::Range{0, 10})
      .add("optim.warmup_steps", "linear lr warm-up over the first N steps (0: none)",
           [](C& c) -> auto& { return so(c).optim.warmup_steps; }, opt::Range{0, 1e15})
      .add("optim.deep_sup_scale", "weight of the deep-supervision loss",
           [](C& c) -> auto& { return so(c).optim.deep_sup_scale; }, opt::Range{0, 10})
      .add("augment.short_sides", "random short side choices (empty: no rescale)",
           [](C& c) -> auto& { return so(c).augment.short_sides; })
      .add("augment.max_long_side", "cap on the long side", [](C& c) -> auto& { return so(c).augment.max_long_side; },
           opt::Range{8, 100000})
      .add("augment.flip", "random horizontal flip", [](C& c) -> auto& { return so(c).augment.flip; })
      .add("augment.brightness", "colour jitter", [](C& c) -> auto& { return so(c).augment.brightness; }, opt::Range{0, 1})
      .add("augment.contrast", "colour jitter", [](C& c) -> auto& { return so(c).augment.contrast; }, opt::Range{0, 1})
      .add("augment.saturation", "colour jitter", [](C& c) -> auto& { return so(c).augment.saturation; }, opt::Range{0, 1})
      .add("augment.hue", "colour jitter", [](C& c) -> auto& { return so(c).augment.hue; }, opt::Range{0, 0.5});
}

std::vector<std::string> validate_semantic(const TrainConfig& c) {
  std::vector<std::string> e;
  for (int side : stage_options<SemanticOptions>(c).augment.short_sides)
    if (side < 8) e.push_back("augment.short_sides: " + std::to_string(side) + " is below 8 pixels");
  return e;
}

std::vector<std::string> validate_semantic_for_world(const TrainConfig& c, int world) {
  const auto& m = stage_options<SemanticOptions>(c).model;
  auto bn = models::batch_norm_batch_problem(m.arch, c.train.per_rank_batch, m.sync_bn ? world : 1);
  if (bn.empty()) return {};
  return {bn};
}

}  // namespace sdn::train

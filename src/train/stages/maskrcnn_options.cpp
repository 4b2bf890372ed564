// Implements the Mask R-CNN stage's config keys and validation (see maskrcnn_options.hpp).
#include "train/stages/maskrcnn_options.hpp"

#include <cstdlib>

#include "models/maskrcnn/layers.hpp"

namespace sdn::train {
namespace {

MaskRcnnStageOptions& mo(TrainConfig& c) { return stage_options<MaskRcnnStageOptions>(c); }

bool parse_rate(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end && *end == '\0' && !text.empty() && out >= 0 && out <= 10;
}

}  // namespace

models::maskrcnn::MaskRcnnOptions MaskRcnnStageOptions::model(std::uint64_t seed) const {
  models::maskrcnn::MaskRcnnOptions o;
  o.image_max_dim = image_size;
  o.resnet_layers = resnet == 50 ? std::vector<int64_t>{3, 4, 6, 3} : std::vector<int64_t>{3, 4, 23, 3};
  o.rpn_anchor_scales.assign(anchor_scales.begin(), anchor_scales.end());
  o.rpn_train_anchors_per_image = rpn_train_anchors_per_image;
  o.pre_nms_limit = pre_nms_limit;
  o.post_nms_rois_training = post_nms_rois_training;
  o.post_nms_rois_inference = post_nms_rois_inference;
  o.train_rois_per_image = train_rois_per_image;
  o.max_gt_instances = max_gt_instances;
  o.detection_max_instances = detection_max_instances;
  o.detection_min_confidence = detection_min_confidence;
  o.min_instance_pixels = min_instance_pixels;
  o.seed = seed;
  return o;
}

std::vector<double> MaskRcnnStageOptions::part_rates() const {
  std::vector<double> out;
  for (const auto& t : part_lr) {
    double v = 0;
    parse_rate(t, v);
    out.push_back(v);
  }
  return out;
}

void add_maskrcnn_options(opt::Schema<TrainConfig>& s) {
  using C = TrainConfig;
  s.add("maskrcnn.image_size", "padded square side (IMAGE_MAX_DIM, a multiple of 64)",
        [](C& c) -> auto& { return mo(c).image_size; }, opt::Range{64, 4096})
      .add("maskrcnn.resnet", "backbone depth (101 = the original, 50 = smaller)",
           [](C& c) -> auto& { return mo(c).resnet; }, opt::Range{50, 101})
      .add("maskrcnn.anchor_scales", "RPN anchor side per level P2..P6 (pixels)",
           [](C& c) -> auto& { return mo(c).anchor_scales; })
      .add("maskrcnn.rpn_train_anchors_per_image", "anchors sampled per image for the RPN losses",
           [](C& c) -> auto& { return mo(c).rpn_train_anchors_per_image; }, opt::Range{2, 100000})
      .add("maskrcnn.pre_nms_limit", "proposals kept by score before NMS",
           [](C& c) -> auto& { return mo(c).pre_nms_limit; }, opt::Range{1, 1000000})
      .add("maskrcnn.post_nms_rois_training", "proposals after NMS in training",
           [](C& c) -> auto& { return mo(c).post_nms_rois_training; }, opt::Range{1, 100000})
      .add("maskrcnn.post_nms_rois_inference", "proposals after NMS at inference",
           [](C& c) -> auto& { return mo(c).post_nms_rois_inference; }, opt::Range{1, 100000})
      .add("maskrcnn.train_rois_per_image", "RoIs sampled per image for the heads (33 % positive)",
           [](C& c) -> auto& { return mo(c).train_rois_per_image; }, opt::Range{3, 100000})
      .add("maskrcnn.max_gt_instances", "ground-truth instances kept per image",
           [](C& c) -> auto& { return mo(c).max_gt_instances; }, opt::Range{1, 10000})
      .add("maskrcnn.detection_max_instances", "detections kept per image",
           [](C& c) -> auto& { return mo(c).detection_max_instances; }, opt::Range{1, 10000})
      .add("maskrcnn.detection_min_confidence", "detections below this score are dropped (0: none)",
           [](C& c) -> auto& { return mo(c).detection_min_confidence; }, opt::Range{0, 1})
      .add("maskrcnn.min_instance_pixels", "vehicle instances with more pixels are targets (and make a frame an item)",
           [](C& c) -> auto& { return mo(c).min_instance_pixels; }, opt::Range{0, 1000000})
      .add("maskrcnn.bn_init", "frozen BN scales at a fresh init (identity = the original; damped = for training from scratch)",
           [](C& c) -> auto& { return mo(c).bn_init; }, opt::Choices{"identity", "damped"})
      .add("maskrcnn.layers", "trainable set of each schedule part (transfer, heads, 3+, 4+, 5+, all)",
           [](C& c) -> auto& { return mo(c).layers; })
      .add("maskrcnn.part_epochs", "cumulative epoch at which each part ends (train_model's epochs)",
           [](C& c) -> auto& { return mo(c).part_epochs; }, opt::Range{1, 1000000})
      .add("maskrcnn.part_lr", "learning rate of each part", [](C& c) -> auto& { return mo(c).part_lr; })
      .add("maskrcnn.transfer_lr", "learning rate of the transfer part's new layers",
           [](C& c) -> auto& { return mo(c).transfer_lr; }, opt::Range{0, 10})
      .add("maskrcnn.momentum", "SGD momentum", [](C& c) -> auto& { return mo(c).momentum; }, opt::Range{0, 1})
      .add("maskrcnn.weight_decay", "SGD weight decay", [](C& c) -> auto& { return mo(c).weight_decay; },
           opt::Range{0, 1})
      .add("maskrcnn.clip_norm", "gradient-norm clip of each step (0: off)",
           [](C& c) -> auto& { return mo(c).clip_norm; }, opt::Range{0, 1e6})
      .add("maskrcnn.never_unfreeze", "reproduce the original's set_trainable (later parts train the heads only)",
           [](C& c) -> auto& { return mo(c).never_unfreeze; })
      .add("maskrcnn.flip", "random horizontal flip", [](C& c) -> auto& { return mo(c).flip; })
      .add("maskrcnn.brightness", "colour jitter", [](C& c) -> auto& { return mo(c).brightness; }, opt::Range{0, 1})
      .add("maskrcnn.contrast", "colour jitter", [](C& c) -> auto& { return mo(c).contrast; }, opt::Range{0, 1})
      .add("maskrcnn.saturation", "colour jitter", [](C& c) -> auto& { return mo(c).saturation; }, opt::Range{0, 1})
      .add("maskrcnn.hue", "colour jitter", [](C& c) -> auto& { return mo(c).hue; }, opt::Range{0, 0.5})
      .add("maskrcnn.predict_max_objects", "predict: detections kept per frame (largest masks first)",
           [](C& c) -> auto& { return mo(c).predict_max_objects; }, opt::Range{1, 10000})
      .add("maskrcnn.predict_min_mask_area", "predict: smallest mask area kept (pixels)",
           [](C& c) -> auto& { return mo(c).predict_min_mask_area; }, opt::Range{0, 100000000});
}

std::vector<std::string> validate_maskrcnn(const TrainConfig& c) {
  const auto& o = stage_options<MaskRcnnStageOptions>(c);
  std::vector<std::string> e;
  if (o.resnet != 50 && o.resnet != 101) e.push_back("maskrcnn.resnet: " + std::to_string(o.resnet) + " is not 50 or 101");
  for (const auto& p : models::maskrcnn::validate(o.model(c.train.seed))) e.push_back("maskrcnn: " + p);
  const size_t n = o.layers.size();
  if (n == 0) e.push_back("maskrcnn.layers: at least one schedule part is needed");
  if (o.part_epochs.size() != n || o.part_lr.size() != n)
    e.push_back("maskrcnn.layers, part_epochs and part_lr: one entry per schedule part each (" + std::to_string(n) +
                ", " + std::to_string(o.part_epochs.size()) + ", " + std::to_string(o.part_lr.size()) + ")");
  static const std::vector<std::string> sets = {"transfer", "heads", "3+", "4+", "5+", "all"};
  for (size_t k = 0; k < n; ++k) {
    if (std::find(sets.begin(), sets.end(), o.layers[k]) == sets.end())
      e.push_back("maskrcnn.layers: '" + o.layers[k] + "' is not one of transfer, heads, 3+, 4+, 5+, all");
    if (o.layers[k] == "transfer" && k != 0) e.push_back("maskrcnn.layers: 'transfer' can only be the first part");
  }
  for (size_t k = 1; k < o.part_epochs.size(); ++k)
    if (o.part_epochs[k] <= o.part_epochs[k - 1]) e.push_back("maskrcnn.part_epochs: must increase");
  for (const auto& t : o.part_lr) {
    double v = 0;
    if (!parse_rate(t, v)) e.push_back("maskrcnn.part_lr: '" + t + "' is not a learning rate in [0, 10]");
  }
  return e;
}

}  // namespace sdn::train

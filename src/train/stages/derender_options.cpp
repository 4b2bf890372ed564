// Implements the derenderer stage's config keys and validation (see derender_options.hpp).
#include "train/stages/derender_options.hpp"

#include <filesystem>

namespace sdn::train {
namespace {

DerenderOptions& dro(TrainConfig& c) { return stage_options<DerenderOptions>(c); }

}  // namespace

void add_derender_options(opt::Schema<TrainConfig>& s) {
  using C = TrainConfig;
  s.add("derender.mode", "pretrain (MSE on the 3D attributes) or full (+ reprojection, REINFORCE, FFD reg)",
        [](C& c) -> auto& { return dro(c).mode; }, opt::Choices{"pretrain", "full"})
      .add("derender.meshes", "directory of the 8 .obj meshes, used in name order (empty: sdn's generated vehicles)",
           [](C& c) -> auto& { return dro(c).meshes; })
      .add("derender.mesh_stations", "generated meshes: cross-sections along the length (fewer: fewer faces)",
           [](C& c) -> auto& { return dro(c).mesh_stations; }, opt::Range{4, 256})
      .add("derender.pretrained",
           "full mode: a pretrain run directory (its newest checkpoint) or checkpoint file to start from (model and optimiser)",
           [](C& c) -> auto& { return dro(c).pretrained; })
      .add("derender.crop_size", "network input side (original 224)", [](C& c) -> auto& { return dro(c).crop_size; },
           opt::Range{16, 1024})
      .add("derender.mask_size", "silhouette target side, px the ROI spans in the render (original 256)",
           [](C& c) -> auto& { return dro(c).mask_size; }, opt::Range{4, 2048})
      .add("derender.render_size", "silhouette render side (original 384)",
           [](C& c) -> auto& { return dro(c).render_size; }, opt::Range{4, 4096})
      .add("derender.sigma", "soft rasteriser edge width in px^2", [](C& c) -> auto& { return dro(c).sigma; },
           opt::Range{1e-4, 100})
      .add("derender.color_jitter", "ColorJitter range of brightness, contrast, saturation and hue (0: off)",
           [](C& c) -> auto& { return dro(c).color_jitter; }, opt::Range{0, 0.5})
      .add("derender.mask_weight", "weight of the silhouette MSE", [](C& c) -> auto& { return dro(c).mask_weight; },
           opt::Range{0, 1000})
      .add("derender.ffd_coeff_reg", "weight of the FFD coefficient regulariser",
           [](C& c) -> auto& { return dro(c).ffd_coeff_reg; }, opt::Range{0, 1000})
      .add("derender.sync_bn", "BatchNorm statistics over all ranks (the original: per GPU)",
           [](C& c) -> auto& { return dro(c).sync_bn; })
      .add("derender.eval_render", "evaluation also renders the silhouettes (mask loss and IoU)",
           [](C& c) -> auto& { return dro(c).eval_render; })
      .add("derender.lr", "Adam learning rate (pretrain 1e-3, full 1e-4)", [](C& c) -> auto& { return dro(c).lr; },
           opt::Range{0, 10})
      .add("derender.weight_decay", "Adam weight decay", [](C& c) -> auto& { return dro(c).weight_decay; },
           opt::Range{0, 1})
      .add("derender.lr_decay_epochs", "StepLR step size in epochs", [](C& c) -> auto& { return dro(c).lr_decay_epochs; },
           opt::Range{1, 100000})
      .add("derender.lr_decay_rate", "StepLR factor", [](C& c) -> auto& { return dro(c).lr_decay_rate; },
           opt::Range{0, 1})
      .add("derender.predict_boxes", "predict: the objects of a frame, gt (instance masks) or maskrcnn (detections)",
           [](C& c) -> auto& { return dro(c).predict_boxes; }, opt::Choices{"gt", "maskrcnn"})
      .add("derender.detections", "predict_boxes = maskrcnn: a Mask R-CNN run's `sdn predict --out` directory",
           [](C& c) -> auto& { return dro(c).detections; });
}

std::vector<std::string> validate_derender(const TrainConfig& c) {
  const auto& o = stage_options<DerenderOptions>(c);
  std::vector<std::string> e;
  if (o.mask_size > o.render_size)
    e.push_back("derender.mask_size (" + std::to_string(o.mask_size) + ") exceeds derender.render_size (" +
                std::to_string(o.render_size) + "): the ROI must fit into the render");
  if ((o.render_size - o.mask_size) % 2 != 0)
    e.push_back("derender.render_size - derender.mask_size must be even (the targets are padded equally on both sides)");
  if (!o.pretrained.empty() && o.mode != "full")
    e.push_back("derender.pretrained is set but derender.mode is " + o.mode + ": only the full mode starts from a "
                "pretrain checkpoint (use model.init_weights for a plain weights start)");
  if (o.predict_boxes == "maskrcnn" && o.detections.empty())
    e.push_back("derender.predict_boxes = maskrcnn needs derender.detections: the --out directory of `sdn predict` "
                "of a Mask R-CNN run on the same split");
  if (!o.meshes.empty() && !std::filesystem::is_directory(o.meshes))
    e.push_back("derender.meshes: " + o.meshes + " is not a directory (it must hold the 8 .obj meshes)");
  return e;
}

std::vector<std::string> validate_derender_for_world(const TrainConfig& c, int world) {
  const auto& o = stage_options<DerenderOptions>(c);
  // ResNet-18's last BatchNorm sees ceil(crop / 32)^2 values per image and channel.
  const std::int64_t side = (o.crop_size + 31) / 32;
  const std::int64_t values = side * side * c.train.per_rank_batch * (o.sync_bn ? world : 1);
  if (values >= 2) return {};
  return {"derender.crop_size " + std::to_string(o.crop_size) + " with train.per_rank_batch " +
          std::to_string(c.train.per_rank_batch) + " leaves ResNet-18's last BatchNorm one value per channel: use a "
          "per-rank batch of at least 2, a crop of at least 33 px, or derender.sync_bn on 2+ ranks"};
}

}  // namespace sdn::train

// The Mask R-CNN stage's own config section [maskrcnn]: the model's sizes and counts (MaskRcnnOptions), the
// original's staged schedule (vkitti.py's train_model calls: transfer -> heads -> 4+ -> all, each part with its
// own learning rate and a fresh SGD), the colour jitter and flip of the loader, and what predict keeps. The
// common sections live in train/config.hpp; configs/maskrcnn.ini documents every key.
#pragma once

#include <string>
#include <vector>

#include "core/options.hpp"
#include "models/maskrcnn/options.hpp"
#include "train/config.hpp"

namespace sdn::train {

struct MaskRcnnStageOptions {
  // Model (MaskRcnnOptions fields of the same meaning; defaults are the original VKittiConfig's).
  int image_size = 1024;              // IMAGE_MAX_DIM: the padded square (a multiple of 64)
  int resnet = 101;                   // 101 (the original) or 50
  std::vector<int> anchor_scales = {32, 64, 128, 256, 512};
  int rpn_train_anchors_per_image = 256;
  int pre_nms_limit = 6000;
  int post_nms_rois_training = 2000;
  int post_nms_rois_inference = 1000;
  int train_rois_per_image = 200;
  int max_gt_instances = 100;
  int detection_max_instances = 100;
  double detection_min_confidence = 0.7;
  int min_instance_pixels = 50;       // vkitti.py load_mask: vehicle instances with more pixels are targets
  // Frozen BN scales at a fresh init: "identity" (the original's initialize_weights: 1/0) or "damped" (stem
  // 0.02, each block's bn3 0.2, downsample BN 0.5), which keeps activations in range when no COCO/ImageNet
  // weights are loaded (a demo from scratch; identity BNs double the variance per residual block).
  std::string bn_init = "identity";

  // Schedule: part k trains layer set layers[k] (heads, 3+, 4+, 5+, all, or transfer = heads with the
  // transfer layers at transfer_lr) up to epoch part_epochs[k] (cumulative, as train_model's `epochs`) at
  // part_lr[k]; part boundaries are schedule points at total_steps * part_epochs[k] / part_epochs.back().
  std::vector<std::string> layers = {"transfer", "heads", "4+", "all"};
  std::vector<int> part_epochs = {10, 40, 70, 100};
  std::vector<std::string> part_lr = {"1e-5", "1e-3", "5e-4", "2e-4"};  // LEARNING_RATE 1e-3, /2, /5
  double transfer_lr = 1e-2;          // the transfer part's new layers (mask.conv5, linear_class, linear_bbox)
  double momentum = 0.9;              // LEARNING_MOMENTUM
  double weight_decay = 1e-4;         // WEIGHT_DECAY (every trainable parameter: all BN is frozen)
  double clip_norm = 5.0;             // clip_grad_norm of the step's gradient (0: off)
  // The original's set_trainable only ever freezes, so after 'heads' the '4+' and 'all' parts still train the
  // heads only. true reproduces that (a part trains the intersection of its set with every earlier one).
  bool never_unfreeze = false;

  // Loader augmentation: ColorJitter(0.2, 0.2, 0.2, 0.1) and a random horizontal flip, no rescale (the
  // resize/pad to the square is make_training_sample's).
  bool flip = true;
  double brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.1;

  // Predict: the detections the derenderer consumes.
  int predict_max_objects = 16;       // top-N by mask area
  int predict_min_mask_area = 256;    // pixels (16^2); smaller masks are dropped

  // The model options these keys describe.
  models::maskrcnn::MaskRcnnOptions model(std::uint64_t seed) const;
  // part_lr as numbers (validate() has checked them).
  std::vector<double> part_rates() const;
};

void add_maskrcnn_options(opt::Schema<TrainConfig>& s);
std::vector<std::string> validate_maskrcnn(const TrainConfig& c);

}  // namespace sdn::train

// The derenderer stage's own config section ([derender]: mode, meshes, sizes, the pretrained checkpoint, loss
// weights and the Adam/StepLR recipe of geometric/scripts/main.py), as configs/derender*.ini document them; the
// common sections live in train/config.hpp.
#pragma once

#include <string>
#include <vector>

#include "core/options.hpp"
#include "train/config.hpp"

namespace sdn::train {

struct DerenderOptions {
  std::string mode = "pretrain";  // pretrain: the four 3D attributes; full: + reprojection, REINFORCE, FFD reg
  std::string meshes;             // directory of the 8 .obj meshes (sorted by name); empty: sdn's generated vehicles
  int mesh_stations = 32;         // generated meshes only: cross-sections along the length (fewer: fewer faces)
  std::string pretrained;         // full mode: a pretrain run's checkpoint to start from (model and Adam state)
  int crop_size = 224;            // network input side
  int mask_size = 256;            // silhouette target side: the ROI spans this many px of the render (image_size)
  int render_size = 384;
  double sigma = 1.0;             // soft rasteriser edge width (px^2)
  double color_jitter = 0.5;      // ColorJitter(b, c, s, h) ranges, all the same as the original's 0.5
  double mask_weight = 0.1;
  double ffd_coeff_reg = 10.0;    // the README's full-mode value (main.py's flag default is 1.0)
  bool sync_bn = false;           // the original ran DataParallel: per-GPU BatchNorm statistics
  bool eval_render = true;        // evaluate: also render (argmax mesh) for the mask loss and IoU
  double lr = 1e-3;               // Adam
  double weight_decay = 1e-3;
  int lr_decay_epochs = 16;       // StepLR step size (epochs)
  double lr_decay_rate = 0.5;
  // `sdn predict`: the objects of each frame, as main.py --source: gt (the Car/Van instance masks) or maskrcnn
  // (the detections a Mask R-CNN run's `sdn predict` wrote under `detections`, docs/data-format.md).
  std::string predict_boxes = "gt";
  std::string detections;
};

void add_derender_options(opt::Schema<TrainConfig>& s);
std::vector<std::string> validate_derender(const TrainConfig& c);
std::vector<std::string> validate_derender_for_world(const TrainConfig& c, int world);

}  // namespace sdn::train

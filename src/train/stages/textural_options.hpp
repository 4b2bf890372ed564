// The textural stage's own config section ([textural]): where its inputs come from (ground truth in the
// shards, or the semantic and derenderer runs' `sdn predict` outputs), the VGG-19 weights, the loss weights,
// the net sizes, the optimiser, the 100 + 100 epoch schedule and the original's scale-width-and-crop data
// pipeline, as configs/textural.ini documents them.
#pragma once

#include <string>
#include <vector>

#include "core/options.hpp"
#include "train/config.hpp"

namespace sdn::train {

struct TexturalOptions {
  std::string inputs = "groundtruth";  // groundtruth | predicted
  std::string semantic_dir;            // predicted: a semantic run's `sdn predict --out` directory
  std::string geometric_dir;           // predicted: a derenderer run's `sdn predict --out` (optional)
  bool gt_normals = true;              // groundtruth: normal maps of meshes at the motgt poses (false: zeros)
  std::string meshes;                  // groundtruth normals: derender.meshes-style dir (empty: generated vehicles)
  int car_mesh = 0, van_mesh = 7;      // the bank's mesh rendered for Car and for Van
  bool vgg_loss = true;                // !no_vgg_loss
  std::string vgg_weights;             // torchvision VGG-19 converted with scripts/pth_to_h5.py
  double lambda_feat = 5.0, lambda_l1 = 10.0;
  bool gan_feat = true;                // !no_ganFeat_loss
  int ngf = 64, n_downsample_global = 4, n_blocks_global = 9;
  int feat_num = 5, nef = 16, n_downsample_E = 4;
  int ndf = 64, n_layers_D = 3, num_D = 2;
  double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;
  int niter = 100, niter_decay = 100;  // epochs at the base rate, then epochs of linear decay
  int load_width = 800;                // scale_width target (0: keep the size)
  int crop_width = 624, crop_height = 192;
  bool flip = true;
  double brightness = 0.1, contrast = 0.1, saturation = 0.1, hue = 0.05;  // ColorJitter of the real image
};

void add_textural_options(opt::Schema<TrainConfig>& s);
std::vector<std::string> validate_textural(const TrainConfig& c);

}  // namespace sdn::train

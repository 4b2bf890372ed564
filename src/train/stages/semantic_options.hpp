// The semantic stage's own config sections ([model] arch/classes/SyncBN, [optim], [augment]) and their keys,
// as configs/semantic.ini documents them; the common sections live in train/config.hpp.
#pragma once

#include <string>
#include <vector>

#include "core/options.hpp"
#include "train/config.hpp"

namespace sdn::train {

struct SemanticOptions {
  struct Model {
    std::string arch = "resnet50dilated8_ppm_deepsup";  // or drn_d_22
    int num_classes = 14;
    bool sync_bn = true;              // BatchNorm statistics over all ranks (the original's SyncBN)
    std::string encoder_weights;      // ImageNet encoder start (the original's resnet50-imagenet.pth, converted)
  } model;
  struct Optim {
    double lr = 0.01;                 // original: SGD lr 0.01 for encoder and decoder
    double momentum = 0.9;
    double weight_decay = 1e-4;
    double lr_power = 0.9;            // poly decay: lr * (1 - step/total)^power
    double deep_sup_scale = 0.4;
    std::int64_t warmup_steps = 0;    // linear warm-up of the lr over the first steps (recipe scaling; 0: none)
  } optim;
  struct Augment {
    std::vector<int> short_sides = {100, 150, 200, 300, 375};
    int max_long_side = 1274;
    bool flip = true;
    double brightness = 0.2, contrast = 0.2, saturation = 0.2, hue = 0.1;
  } augment;
};

void add_semantic_options(opt::Schema<TrainConfig>& s);
std::vector<std::string> validate_semantic(const TrainConfig& c);
std::vector<std::string> validate_semantic_for_world(const TrainConfig& c, int world);

}  // namespace sdn::train

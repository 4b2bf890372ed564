// Helpers shared by the textural tests: the tiny options (32x32 images, few filters) and a seeded batch.
#pragma once

#include <torch/torch.h>

#include "models/textural/textural_inputs.hpp"
#include "models/textural/textural_nets.hpp"

namespace sdn_test {

inline sdn::models::textural::TexturalNetsOptions tiny_textural(bool vgg = false) {
  sdn::models::textural::TexturalNetsOptions o;
  o.ngf = 8;
  o.n_downsample_global = 2;
  o.n_blocks_global = 1;
  o.nef = 4;
  o.n_downsample_E = 2;
  o.ndf = 8;
  o.use_vgg = vgg;
  o.allow_seeded_vgg = true;
  return o;
}

// Two 32x32 frames: a few rectangular objects on a semantic map, poses, normals and a real image.
inline sdn::models::textural::TexturalBatch tiny_batch(int seed, int64_t b = 2, int64_t h = 32, int64_t w = 32) {
  namespace tx = sdn::models::textural;
  torch::manual_seed(seed);
  auto semantic = torch::randint(0, 13, {b, 1, h / 8, w / 8}, torch::kLong)
                      .repeat_interleave(8, 2)
                      .repeat_interleave(8, 3);
  auto objects = torch::zeros({b, 1, h, w}, torch::kLong);
  objects.index_put_({0, 0, torch::indexing::Slice(2, 12), torch::indexing::Slice(3, 20)}, 1);
  objects.index_put_({0, 0, torch::indexing::Slice(15, 30), torch::indexing::Slice(10, 28)}, 2);
  objects.index_put_({b - 1, 0, torch::indexing::Slice(5, 25), torch::indexing::Slice(1, 9)}, 1);
  auto li = tx::compose_label_and_instances(semantic, objects);
  std::vector<std::map<int64_t, double>> alpha(static_cast<size_t>(b));
  alpha[0] = {{1, 0.3}, {2, -2.9}};
  alpha[static_cast<size_t>(b - 1)][1] = 3.0;
  tx::TexturalBatch batch;
  batch.labels = li.labels;
  batch.instances = li.instances;
  batch.pose = tx::pose_bins(objects, alpha);
  batch.normals = tx::normal_channels(torch::randint(0, 256, {b, 3, h, w}, torch::kUInt8));
  batch.real = torch::rand({b, 3, h, w}) * 2 - 1;
  return batch;
}

}  // namespace sdn_test

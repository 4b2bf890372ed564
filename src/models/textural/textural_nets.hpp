// The textural branch's three networks together (netG, netE, netD, plus the frozen VGG-19 when the VGG
// loss is on), built from one options struct, and the generator side of a step: netE's pooled features of
// the real image, G's input and the generated image. Each net keeps the original's own state_dict (the
// original saves <epoch>_net_G.pth, _E, _D separately).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/textural/global_generator.hpp"
#include "models/textural/instance_encoder.hpp"
#include "models/textural/multiscale_discriminator.hpp"
#include "models/textural/vgg19.hpp"

namespace sdn::models::textural {

struct TexturalNetsOptions {
  int64_t ngf = 64, n_downsample_global = 4, n_blocks_global = 9;
  int64_t feat_num = 5, nef = 16, n_downsample_E = 4;
  int64_t ndf = 64, n_layers_D = 3, num_D = 2;
  bool use_vgg = true;
  std::string vgg_weights;  // textural.vgg_weights; empty = seeded VGG (tests only: see allow_seeded_vgg)
  bool allow_seeded_vgg = false;
  std::uint64_t seed = 1;   // netG seed; netE, netD and the VGG use seed + 1, + 2, + 3
};

// One batch, already encoded: labels and instances [B,1,H,W] (compose_label_and_instances), pose bins
// [B,1,H,W] int64, normals [B,3,H,W] (zeros when off), real image [B,3,H,W] in [-1, 1].
struct TexturalBatch {
  torch::Tensor labels, instances, pose, normals, real;
};

struct Generated {
  torch::Tensor label_edges;  // [B,15,H,W]: what D sees next to the image
  torch::Tensor features;     // [B,feat_num,H,W]: netE's instance-pooled code
  torch::Tensor fake;         // [B,3,H,W]
};

class TexturalNets {
 public:
  explicit TexturalNets(const TexturalNetsOptions& options);

  // E then G, with graphs (training), or under NoGradGuard for eval. Keep the nets in train() mode for eval
  // as the original's test.py does (it never calls eval(), so InstanceNorm uses per-image statistics).
  Generated generate(const TexturalBatch& batch);

  // The G+E optimiser's parameters (G's, then E's, as the original) and D's.
  std::vector<torch::Tensor> generator_parameters() const;
  std::vector<torch::Tensor> discriminator_parameters() const;

  void train(bool on = true);
  void to(const torch::Device& device);

  TexturalNetsOptions options;
  GlobalGenerator netG{nullptr};
  InstanceEncoder netE{nullptr};
  MultiscaleDiscriminator netD{nullptr};
  Vgg19 vgg{nullptr};  // null when options.use_vgg is false
};

}  // namespace sdn::models::textural

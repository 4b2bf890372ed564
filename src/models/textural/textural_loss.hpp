// The textural branch's losses (pix2pixHD_model.forward and networks.GANLoss/VGGLoss of 3D-SDN): LSGAN
// (MSE to 1 for real, 0 for fake, summed over the D scales), D = 0.5 (fake + real) with the generated image
// detached, G = GAN + feature matching + VGG + L1. All terms come from one generator forward: the stage
// back-propagates g_total() into G+E, then d_total() into D (see docs/fidelity.md, "Textural").
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "models/textural/multiscale_discriminator.hpp"
#include "models/textural/vgg19.hpp"

namespace sdn::models::textural {

struct TexturalLossOptions {
  double lambda_feat = 5.0;  // feature matching and VGG weight
  double lambda_l1 = 10.0;   // 3D-SDN's added L1 reconstruction term
  bool gan_feat = true;      // !no_ganFeat_loss
};

// pix2pixHD's VGGLoss weights for relu1_1 .. relu5_1.
const std::vector<double>& vgg_layer_weights();

// GANLoss with use_lsgan: sum over scales of mean((prediction - target)^2), prediction = the last layer.
torch::Tensor lsgan_loss(const DFeatures& pred, bool target_is_real);

struct TexturalTerms {
  torch::Tensor g_gan, g_feat, g_vgg, g_l1;  // scalars; g_vgg is 0 without a VGG
  torch::Tensor d_real, d_fake;
  torch::Tensor g_total() const { return g_gan + g_feat + g_vgg + g_l1; }
  torch::Tensor d_total() const { return 0.5 * (d_fake + d_real); }
  // G/gan, G/feat, G/vgg, G/l1, D/real, D/fake (detached).
  std::vector<std::pair<std::string, torch::Tensor>> named() const;
};

// The terms of one step. `label_edges` = label_and_edges(...), `fake` = G's output (with its graph), `real`
// the target image. D runs three times as in the original (fake detached, real, fake), which also fixes the
// order its InstanceNorm running statistics are updated in. `vgg` may be null (no VGG loss).
TexturalTerms textural_losses(MultiscaleDiscriminatorImpl& netD, Vgg19Impl* vgg, const torch::Tensor& label_edges,
                              const torch::Tensor& fake, const torch::Tensor& real,
                              const TexturalLossOptions& options = {});

}  // namespace sdn::models::textural

// pix2pixHD's building blocks shared by netG, netE and netD: its norm layer (InstanceNorm2d, affine=False,
// track_running_stats=True, as get_norm_layer('instance') in 3D-SDN's networks.py: models/norm.hpp's
// instance_norm_tracked) and its weights_init
// (every Conv*/ConvTranspose* weight ~ N(0, 0.02); biases keep torch's default U(+-1/sqrt(fan_in))), drawn
// from a seeded generator so the initial nets are a function of the seed.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/norm.hpp"

namespace sdn::models::textural {

inline torch::nn::InstanceNorm2d instance_norm(int64_t channels) { return instance_norm_tracked(channels); }

// Re-initialises every Conv2d and ConvTranspose2d below `module` (not itself: callable from constructors).
void pix2pixhd_init(torch::nn::Module& module, std::uint64_t seed);

}  // namespace sdn::models::textural

// Seeded weight initialisation: a model's initial weights are a pure function of its seed and never touch
// torch's global generator (so data order, dropout and init cannot disturb each other across resumes).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace sdn::models::init {

at::Generator make_generator(std::uint64_t seed);

// N(0, sqrt(2 / (kh * kw * out_channels))): the He fan-out rule of the original ResNet and DRN code.
void he_normal_fan_out(const torch::Tensor& weight, at::Generator& gen);

// torch.nn.Conv2d's own default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform, a=sqrt(5)).
void torch_default(torch::nn::Conv2dImpl& conv, at::Generator& gen);

}  // namespace sdn::models::init

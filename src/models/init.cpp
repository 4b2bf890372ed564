// Implements the seeded initialisers (see init.hpp).
#include "models/init.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace sdn::models::init {

at::Generator make_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

void he_normal_fan_out(const torch::Tensor& weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const double fan_out = static_cast<double>(weight.size(0) * weight.size(2) * weight.size(3));
  weight.normal_(0.0, std::sqrt(2.0 / fan_out), gen);
}

void torch_default(torch::nn::Conv2dImpl& conv, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto& w = conv.weight;
  const double fan_in = static_cast<double>(w.size(1) * w.size(2) * w.size(3));
  const double bound = 1.0 / std::sqrt(fan_in);
  w.uniform_(-bound, bound, gen);
  if (conv.bias.defined()) conv.bias.uniform_(-bound, bound, gen);
}

}  // namespace sdn::models::init

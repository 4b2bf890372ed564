// Implements the pix2pixHD norm layer and initialisation (see pix2pixhd_init.hpp).
#include "models/textural/pix2pixhd_init.hpp"

#include <cmath>

#include "models/init.hpp"

namespace sdn::models::textural {
namespace {

// torch's _calculate_fan_in_and_fan_out: weight.size(1) x receptive field, for Conv and ConvTranspose alike.
void init_conv(const torch::Tensor& weight, const torch::Tensor& bias, at::Generator& gen) {
  weight.normal_(0.0, 0.02, gen);
  if (!bias.defined()) return;
  const double fan_in = static_cast<double>(weight.size(1) * weight.size(2) * weight.size(3));
  const double bound = 1.0 / std::sqrt(fan_in);
  bias.uniform_(-bound, bound, gen);
}

}  // namespace

void pix2pixhd_init(torch::nn::Module& module, std::uint64_t seed) {
  auto gen = init::make_generator(seed);
  torch::NoGradGuard no_grad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get()))
      init_conv(conv->weight, conv->bias, gen);
    else if (auto* tconv = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(m.get()))
      init_conv(tconv->weight, tconv->bias, gen);
  }
}

}  // namespace sdn::models::textural

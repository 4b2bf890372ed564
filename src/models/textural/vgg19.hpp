// The frozen VGG-19 of pix2pixHD's VGG loss: torchvision's vgg19().features up to relu5_1 (indices 0..29),
// returning relu1_1, relu2_1, relu3_1, relu4_1 and relu5_1 (pix2pixHD's slice1..slice5). Names are
// torchvision's (features.N.weight/bias), so a torchvision file converted with
//   scripts/pth_to_h5.py --state vgg19-dcbb9e9d.pth --model vgg19 --out vgg19.h5
// loads; its later layers and classifier are ignored. Like the original, the input is the [-1, 1] image
// itself (no ImageNet normalisation). Parameters never require gradients.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::models::textural {

class Vgg19Impl : public torch::nn::Module {
 public:
  // Seeded weights (tests and runs without the loss); load_vgg19_weights replaces them.
  explicit Vgg19Impl(std::uint64_t seed = 19);
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  torch::nn::Sequential features{nullptr};
};
TORCH_MODULE(Vgg19);

// Reads features.N.{weight,bias} of the 13 convolutions from an sdn weights file (textural.vgg_weights).
// One error naming the file and the config key when it is missing, unreadable or lacks/mis-shapes an entry.
void load_vgg19_weights(Vgg19Impl& vgg, const std::string& path);

}  // namespace sdn::models::textural

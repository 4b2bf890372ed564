// Decoder `ppm_bilinear_deepsup` of the original semantic branch: pyramid pooling (scales 1, 2, 3, 6) on the
// encoder's last map, conv_last to class logits, and a deep-supervision head on layer3's map (weighted 0.4 in
// the loss, used in training only). Module names match the original state_dict (ppm.0.1, conv_last.4, ...).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/sync_batchnorm.hpp"

namespace sdn::models {

struct PpmDeepsupOptions {
  explicit PpmDeepsupOptions(int64_t num_classes) : num_classes_(num_classes) {}
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, fc_dim) = 2048;  // channels of the encoder's last map; layer3 has fc_dim / 2
  TORCH_ARG(std::vector<int64_t>, pool_scales) = std::vector<int64_t>{1, 2, 3, 6};
  TORCH_ARG(double, dropout) = 0.1;  // Dropout2d before both classifiers
};

class PpmDeepsupImpl : public torch::nn::Module {
 public:
  explicit PpmDeepsupImpl(const PpmDeepsupOptions& options);
  // Class logits at the resolution of `conv5` (the encoder's last map).
  torch::Tensor logits(const torch::Tensor& conv5);
  // Deep-supervision logits from `conv4` (layer3's map).
  torch::Tensor deepsup_logits(const torch::Tensor& conv4);
  // torch.nn.Conv2d's default init for every conv (the original decoder is not re-initialised), BN 1/0.
  void init_weights(at::Generator& gen);

  PpmDeepsupOptions options;
  torch::nn::ModuleList ppm{nullptr};  // each: AdaptiveAvgPool2d, Conv2d 1x1, SyncBatchNorm2d, ReLU
  torch::nn::Sequential cbr_deepsup{nullptr};
  torch::nn::Sequential conv_last{nullptr};
  torch::nn::Conv2d conv_last_deepsup{nullptr};
  torch::nn::Dropout2d dropout_deepsup{nullptr};

 private:
  std::vector<torch::nn::Sequential> branches_;
};
TORCH_MODULE(PpmDeepsup);

}  // namespace sdn::models

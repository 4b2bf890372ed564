// The original 3D-SDN semantic model: encoder resnet50_dilated8 + decoder ppm_bilinear_deepsup, registered
// as "resnet50dilated8_ppm_deepsup". Its state_dict is the original encoder's under "encoder." followed by
// the original decoder's under "decoder.".
#pragma once

#include "models/ppm_deepsup.hpp"
#include "models/resnet_dilated.hpp"
#include "models/segmentation_model.hpp"

namespace sdn::models {

struct ResnetPpmSegOptions {
  explicit ResnetPpmSegOptions(int64_t num_classes) : num_classes_(num_classes) {}
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(std::uint64_t, seed) = 304;
};

class ResnetPpmSegImpl : public SegmentationModelImpl {
 public:
  static constexpr const char* kArch = "resnet50dilated8_ppm_deepsup";

  explicit ResnetPpmSegImpl(const ResnetPpmSegOptions& options);
  SegOutput forward_train(const torch::Tensor& images) override;
  torch::Tensor forward_infer(const torch::Tensor& images, std::array<int64_t, 2> out_size) override;
  std::string arch() const override { return kArch; }
  int64_t num_classes() const override { return options.num_classes(); }
  bool has_deepsup() const override { return true; }

  ResnetPpmSegOptions options;
  ResnetDilated encoder{nullptr};
  PpmDeepsup decoder{nullptr};
};
TORCH_MODULE(ResnetPpmSeg);

}  // namespace sdn::models

// Implements the ImageNet encoder import (see encoder_weights.hpp).
#include "models/encoder_weights.hpp"

#include "core/error.hpp"
#include "models/resnet_ppm_seg.hpp"

namespace sdn::models {

ImportMap encoder_import_map(const std::string& arch) {
  if (arch != ResnetPpmSegImpl::kArch)
    throw UsageError("model.encoder_weights: architecture '" + arch + "' has no ImageNet encoder to start from",
                     std::string("encoder weights are the deep-stem ResNet-50 of ") + ResnetPpmSegImpl::kArch +
                         "; for other models start from a whole model with model.init_weights");
  ImportMap map;
  map.rewrites = {{"", "encoder."}};
  map.skip = R"(encoder\.fc\..*|decoder\..*)";
  map.optional = R"(encoder\..*\.(num_batches_tracked|_tmp_running_mean|_tmp_running_var|_running_iter))";
  map.strict = true;
  return map;
}

ImportReport import_encoder_weights(torch::nn::Module& model, const std::string& arch, const std::string& file) {
  return import_weights_mapped(model, file, encoder_import_map(arch));
}

}  // namespace sdn::models

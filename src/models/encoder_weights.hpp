// The encoder start of the original semantic branch: when weights_encoder is empty, the original loads the
// ImageNet deep-stem ResNet-50 of CSAILVision/semantic-segmentation-pytorch (resnet50-imagenet.pth, converted
// with scripts/pth_to_h5.py) into its encoder and leaves the decoder at its init. This is that import, as a
// mapped import: file keys "conv1.weight", "layer3.0.bn2.running_var", ... go under "encoder.".
#pragma once

#include <string>

#include "models/weights_io.hpp"

namespace sdn::models {

// The map for `arch`: "" -> "encoder."; the file's classifier (fc.*) and the whole decoder stay out; the
// original SyncBN bookkeeping buffers and num_batches_tracked load when present and otherwise keep their
// init (the original's own strict=False load leaves them so). Throws UsageError for an arch without an
// ImageNet encoder (drn_d_22).
ImportMap encoder_import_map(const std::string& arch);

// Strict import of `file` into `model` (of architecture `arch`) with encoder_import_map(arch). Throws
// sdn::Error naming every key that does not fit.
ImportReport import_encoder_weights(torch::nn::Module& model, const std::string& arch, const std::string& file);

}  // namespace sdn::models

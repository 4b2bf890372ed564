// The second-stage heads of the original (model.py Classifier, Mask). Both start with the pyramid RoIAlign.
// Classifier: conv pool x pool (valid, = FC) 256 -> 1024, BN, ReLU, conv 1x1, BN, ReLU, then linear_class
// (logits) and linear_bbox (class-specific deltas). Mask: 4 x (SAME conv 3x3, BN, ReLU), ConvTranspose 2x2/2,
// ReLU, conv 1x1 to one mask per class, sigmoid.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/maskrcnn/frozen_batchnorm.hpp"

namespace sdn::models::maskrcnn {

struct ClassifierOutput {
  torch::Tensor logits;  // [N, classes]
  torch::Tensor probs;   // [N, classes]
  torch::Tensor deltas;  // [N, classes, 4]
};

class ClassifierImpl : public torch::nn::Module {
 public:
  ClassifierImpl(int64_t depth, int64_t pool_size, int64_t image_size, int64_t num_classes);
  // features {P2..P5}, rois [N, 4] normalised, box_ind [N].
  ClassifierOutput forward(const std::vector<torch::Tensor>& features, const torch::Tensor& rois,
                           const torch::Tensor& box_ind);

  int64_t pool_size, image_size;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear linear_class{nullptr}, linear_bbox{nullptr};
};
TORCH_MODULE(Classifier);

class MaskHeadImpl : public torch::nn::Module {
 public:
  MaskHeadImpl(int64_t depth, int64_t pool_size, int64_t image_size, int64_t num_classes);
  // -> [N, classes, 2 pool, 2 pool] probabilities.
  torch::Tensor forward(const std::vector<torch::Tensor>& features, const torch::Tensor& rois,
                        const torch::Tensor& box_ind);

  int64_t pool_size, image_size;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, conv4{nullptr}, conv5{nullptr};
  FrozenBatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr}, bn4{nullptr};
  torch::nn::ConvTranspose2d deconv{nullptr};
};
TORCH_MODULE(MaskHead);

}  // namespace sdn::models::maskrcnn

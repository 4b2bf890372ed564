// The semantic branch's loss as the original computes it: NLLLoss (ignore index -1) of the main output plus
// deep_sup_scale x the same loss of the deep-supervision output, both at 1/8 resolution against labels
// already downsampled x8 (semantic_batch.hpp); plus the pixel accuracy the original logs.
#pragma once

#include <torch/torch.h>

#include "models/segmentation_model.hpp"

namespace sdn::models {

struct SemanticLossOptions {
  double deep_sup_scale = 0.4;
  int64_t ignore_index = -1;
};

struct SemanticLossTerms {
  torch::Tensor total;       // scalar, differentiable: what backward() is called on
  torch::Tensor main;        // scalar, detached
  torch::Tensor deepsup;     // scalar, detached; undefined when the model has no deep-supervision head
  torch::Tensor pixel_acc;   // scalar in [0, 1] over valid labels of the main output, detached
  int64_t valid_pixels = 0;  // labels != ignore_index in this batch (weight for averaging across ranks)
};

// `labels`: int64 N x h x w on the output's grid (h, w = the outputs' spatial size). A batch without any valid
// label contributes a zero loss (instead of NLLLoss's 0/0 = NaN) so one empty crop cannot poison training.
SemanticLossTerms semantic_loss(const SegOutput& output, const torch::Tensor& labels,
                                const SemanticLossOptions& options = {});

// Fraction of valid labels (>= 0) where argmax over classes equals the label; 0 when there are none.
torch::Tensor pixel_accuracy(const torch::Tensor& scores, const torch::Tensor& labels);

}  // namespace sdn::models

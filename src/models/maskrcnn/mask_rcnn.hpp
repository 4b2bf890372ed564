// MaskRcnn: the 3D-SDN geometric branch's detector (ysymyth/3D-SDN geometric/maskrcnn, model.py MaskRCNN), with
// the original's state_dict (fpn.*, rpn.*, classifier.*, mask.*; 690 entries without num_batches_tracked and
// 63,627,300 parameters for 3 classes). forward_train returns the five losses of a batch of molded images,
// detect the detections of each. Images are molded squares of options.image_size() (image_prep.hpp).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/maskrcnn/detection.hpp"
#include "models/maskrcnn/fpn.hpp"
#include "models/maskrcnn/heads.hpp"
#include "models/maskrcnn/losses.hpp"
#include "models/maskrcnn/options.hpp"
#include "models/maskrcnn/rpn.hpp"

namespace sdn::models::maskrcnn {

// One image's ground truth, in the original loader's output format.
struct MaskRcnnGt {
  torch::Tensor class_ids;  // int64 [G], > 0
  torch::Tensor boxes;      // float [G, 4] (y1, x1, y2, x2) pixels of the padded square, y2/x2 exclusive
  torch::Tensor masks;      // float [G, mini_h, mini_w] mini masks of the boxes
  torch::Tensor rpn_match;  // int64 [anchors] (build_rpn_targets)
  torch::Tensor rpn_bbox;   // float [rpn_train_anchors_per_image, 4]
};

class MaskRcnnImpl : public torch::nn::Module {
 public:
  explicit MaskRcnnImpl(const MaskRcnnOptions& options = {});

  // images [B, 3, S, S] (molded), gt and gens one per image (gens: CPU generators seeded per sample; they
  // drive the RoI sampling). Each loss is the mean over the batch of the per-image losses (the original's
  // losses for B = 1).
  MaskRcnnLosses forward_train(const torch::Tensor& images, const std::vector<MaskRcnnGt>& gt,
                               std::vector<at::Generator>& gens);

  // images [B, 3, S, S], windows[b] = where image b's frame sits (plan_resize). Detections in square pixels,
  // masks filled; map them to the frame with unmold_detections. No gradient.
  std::vector<Detections> detect(const torch::Tensor& images, const std::vector<ImageWindow>& windows);

  // The anchors [A, 4] (pixels) on `device`, computed once per device.
  const torch::Tensor& anchors(const torch::Device& device);
  // The original's initialize_weights, from options.seed: convs N(0, sqrt(2 / (k k out))) with zero bias,
  // BN 1/0, linears N(0, 0.01) with zero bias, the transposed conv at torch's default.
  void init_weights();

  const MaskRcnnOptions& options() const { return options_; }

  Fpn fpn{nullptr};
  Rpn rpn{nullptr};
  Classifier classifier{nullptr};
  MaskHead mask{nullptr};

 private:
  MaskRcnnOptions options_;
  torch::Tensor anchors_;
};
TORCH_MODULE(MaskRcnn);

}  // namespace sdn::models::maskrcnn

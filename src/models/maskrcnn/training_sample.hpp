// One frame turned into what MaskRcnn::forward_train consumes, in the original loader's order (model.py
// load_image_gt + Dataset.__getitem__): vehicle instances from the class and instance planes, resize and pad
// of image and masks, optional horizontal flip, boxes from the resized masks, mini masks, RPN targets, and the
// mean-subtracted image. ColorJitter stays with the stage's augmenter (it acts on the RGB before this).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "models/maskrcnn/mask_rcnn.hpp"

namespace sdn::models::maskrcnn {

struct TrainingSample {
  torch::Tensor image;  // float [3, S, S], molded
  MaskRcnnGt gt;        // G = 0 when the frame holds no car or van (the original skips such frames)
  ImageWindow window;
};

// rgb uint8 [H, W, 3]; classes, instance: H*W planes (data::Sample). anchors: MaskRcnn::anchors(kCPU).
// `gen` (CPU, seeded per sample) drives the RPN anchor subsampling.
TrainingSample make_training_sample(const torch::Tensor& rgb, const std::vector<std::uint8_t>& classes,
                                    const std::vector<std::uint16_t>& instance, bool flip,
                                    const MaskRcnnOptions& options, const torch::Tensor& anchors, at::Generator& gen);

}  // namespace sdn::models::maskrcnn

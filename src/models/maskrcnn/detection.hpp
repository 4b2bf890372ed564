// Inference detections of the original (model.py refine_detections, unmold_detections; utils.py unmold_mask):
// per RoI the top class and its deltas (* RPN_BBOX_STD_DEV, as the original), boxes scaled to pixels, clipped to
// the image window and rounded; background and scores < DETECTION_MIN_CONFIDENCE dropped; per-class NMS
// (DETECTION_NMS_THRESHOLD); the top DETECTION_MAX_INSTANCES by score. unmold_detections maps them back to the
// frame and pastes each 28x28 mask into a full-frame binary mask.
#pragma once

#include <torch/torch.h>

#include <array>

#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

// One image's detections in the padded square's pixel coordinates, by descending score.
struct Detections {
  torch::Tensor boxes;      // float [n, 4] (y1, x1, y2, x2), whole pixels
  torch::Tensor class_ids;  // int64 [n], 1..num_classes-1
  torch::Tensor scores;     // float [n]
  torch::Tensor masks;      // float [n, mask_h, mask_w]: the detected class's mask probabilities
};

// rois [N, 4] normalised, probs [N, classes], deltas [N, classes, 4]; window (y1, x1, y2, x2) in pixels of the
// padded image. Fills boxes, class_ids and scores (masks stays undefined: the mask head runs on these boxes).
Detections refine_detections(const torch::Tensor& rois, const torch::Tensor& probs, const torch::Tensor& deltas,
                             std::array<double, 4> window, const MaskRcnnOptions& options);

// Where a frame sits in the padded square (from mold_image, image_prep.hpp).
struct ImageWindow {
  std::array<int64_t, 4> window{};            // (y1, x1, y2, x2) of the resized frame in the square, y2/x2 exclusive
  int64_t frame_height = 0, frame_width = 0;  // the original frame
};

// What the derenderer consumes: detections in frame pixels.
struct FrameDetections {
  torch::Tensor boxes;      // int32 [n, 4] (y1, x1, y2, x2) in frame pixels, y2/x2 exclusive
  torch::Tensor class_ids;  // int64 [n]
  torch::Tensor scores;     // float [n]
  torch::Tensor masks;      // uint8 [n, frame_height, frame_width] in {0, 1}
};

// Maps detections to the frame, drops zero-area boxes and pastes the masks (CPU tensors out).
FrameDetections unmold_detections(const Detections& detections, const ImageWindow& window);

// utils.py unmold_mask: a mask [h, w] of probabilities resized bilinearly to the box and thresholded at 0.5,
// after scipy.misc.imresize's min-max stretch of float input; pasted at `box` (clipped to the frame).
torch::Tensor unmold_mask(const torch::Tensor& mask, std::array<int64_t, 4> box, int64_t height, int64_t width);

}  // namespace sdn::models::maskrcnn

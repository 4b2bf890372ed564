// Input molding of the original (utils.py resize_image / resize_mask, model.py mold_image): scale a frame so
// its short side reaches image_min_dim without its long side exceeding image_max_dim (vKITTI: long side 1024),
// zero-pad it centred to the square, subtract MEAN_PIXEL (no std); masks follow with nearest-neighbour zoom and
// the same padding. Pure tensor functions; the loader side (augmentation, flips) stays with the stage.
#pragma once

#include <torch/torch.h>

#include "models/maskrcnn/detection.hpp"
#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

struct ResizePlan {
  double scale = 1.0;
  int64_t resized_height = 0, resized_width = 0;  // round(h * scale), round(w * scale)
  int64_t top = 0, left = 0;                      // padding before the frame
  ImageWindow window;                             // where the frame sits, and its original size
};

// The original's resize_image arithmetic for a height x width frame.
ResizePlan plan_resize(int64_t height, int64_t width, const MaskRcnnOptions& options);

// rgb uint8 [H, W, 3] -> float [3, S, S]: resized (bilinear, PIL-like antialiasing), zero-padded, minus the mean.
torch::Tensor mold_image(const torch::Tensor& rgb, const ResizePlan& plan, const MaskRcnnOptions& options);

// masks [G, H, W] -> uint8 [G, S, S]: scipy.ndimage.zoom(order 0) then zero padding.
torch::Tensor mold_masks(const torch::Tensor& masks, const ResizePlan& plan, const MaskRcnnOptions& options);

}  // namespace sdn::models::maskrcnn

// Ground-truth instances for Mask R-CNN from a frame's per-pixel planes, as the original vkitti.py load_mask and
// utils.py extract_bboxes / minimize_mask produce them: Car (-> class 1) and Van (-> 2) instances with more than
// min_instance_pixels pixels (Truck and every other class dropped), boxes = mask extents with y2/x2 exclusive,
// and 56x56 "mini masks" of each box crop (bilinear, then >= 0.5). Pure functions on plain buffers and tensors.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sdn::models::maskrcnn {

struct GtInstances {
  torch::Tensor class_ids;  // int64 [G], 1 = car, 2 = van
  torch::Tensor masks;      // uint8 [G, H, W] in {0, 1}
};

// classes: H*W 3D-SDN class ids (Car 2, Van 12); instance: H*W ids (0 = none). An instance is a (class,
// instance id) pair; order: cars, then vans, each by ascending instance id (the original's sorted ids
// 5000 * class + counter). `min_pixels`: kept when the count is strictly greater.
GtInstances extract_vehicle_instances(const std::vector<std::uint8_t>& classes,
                                      const std::vector<std::uint16_t>& instance, int width, int height,
                                      int64_t min_pixels = 50);

// masks [G, H, W] -> int64 [G, 4] (y1, x1, y2, x2), y2/x2 exclusive; an empty mask gives zeros.
torch::Tensor extract_bboxes(const torch::Tensor& masks);

// masks [G, H, W], boxes [G, 4] (from extract_bboxes, non-empty) -> float [G, mini_h, mini_w] in {0, 1}.
torch::Tensor minimize_masks(const torch::Tensor& masks, const torch::Tensor& boxes, std::array<int64_t, 2> mini_shape);

}  // namespace sdn::models::maskrcnn

// MaskRcnnOptions: every size, count and threshold of the 3D-SDN Mask R-CNN, named after the original
// config.py attributes (RPN_ANCHOR_SCALES -> rpn_anchor_scales). Defaults are VKittiConfig's (config.py plus
// vkitti.py: 3 classes BG/car/van, 1024-px padded square images). Tests shrink the image and the counts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdn::models::maskrcnn {

struct MaskRcnnOptions {
  int64_t num_classes = 3;                             // NUM_CLASSES, background included
  std::vector<int64_t> resnet_layers = {3, 4, 23, 3};  // ResNet-101 ({3, 4, 6, 3} = ResNet-50)
  int64_t image_min_dim = 300;                         // IMAGE_MIN_DIM: scale up, never down, to this short side
  int64_t image_max_dim = 1024;                        // IMAGE_MAX_DIM: long side; images are zero-padded to a square
  std::array<double, 3> mean_pixel = {123.7, 116.8, 103.9};         // MEAN_PIXEL (RGB), subtracted; no std
  std::vector<int64_t> backbone_strides = {4, 8, 16, 32, 64};       // P2..P6
  std::vector<double> rpn_anchor_scales = {32, 64, 128, 256, 512};  // one per level, pixels
  std::vector<double> rpn_anchor_ratios = {0.5, 1, 2};              // width / height
  int64_t rpn_anchor_stride = 1;
  double rpn_nms_threshold = 0.7;
  int64_t rpn_train_anchors_per_image = 256;
  int64_t pre_nms_limit = 6000;  // proposal layer: top anchors by score before NMS
  int64_t post_nms_rois_training = 2000;
  int64_t post_nms_rois_inference = 1000;
  std::array<double, 4> rpn_bbox_std_dev = {0.1, 0.1, 0.2, 0.2};
  std::array<int64_t, 2> mini_mask_shape = {56, 56};
  int64_t train_rois_per_image = 200;
  double roi_positive_ratio = 0.33;
  int64_t pool_size = 7;                         // classifier RoIAlign
  int64_t mask_pool_size = 14;                   // mask RoIAlign
  std::array<int64_t, 2> mask_shape = {28, 28};  // mask head output / mask targets
  int64_t max_gt_instances = 100;
  std::array<double, 4> bbox_std_dev = {0.1, 0.1, 0.2, 0.2};
  int64_t detection_max_instances = 100;
  double detection_min_confidence = 0.7;
  double detection_nms_threshold = 0.3;
  int64_t min_instance_pixels = 50;  // vkitti.py load_mask: instances with more pixels are kept
  std::uint64_t seed = 304;          // initial weights are a pure function of it

  // IMAGE_SHAPE[0] = IMAGE_SHAPE[1]: the padded square side every tensor of the model assumes.
  int64_t image_size() const { return image_max_dim; }
  // BACKBONE_SHAPES: ceil(image_size / stride) per level.
  std::vector<int64_t> backbone_shapes() const;
};

// Empty if the options describe a buildable model, else every problem, one line each (the image size must be
// a multiple of 64, one scale per stride, counts positive, ...).
std::vector<std::string> validate(const MaskRcnnOptions& options);

}  // namespace sdn::models::maskrcnn

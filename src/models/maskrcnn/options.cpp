// Implements the derived sizes and the validation of MaskRcnnOptions (see options.hpp).
#include "models/maskrcnn/options.hpp"

namespace sdn::models::maskrcnn {

std::vector<int64_t> MaskRcnnOptions::backbone_shapes() const {
  std::vector<int64_t> out;
  for (int64_t s : backbone_strides) out.push_back((image_size() + s - 1) / s);
  return out;
}

std::vector<std::string> validate(const MaskRcnnOptions& o) {
  std::vector<std::string> bad;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) bad.push_back(what);
  };
  // The original's build() check: P6 is 1/64 and the top-down path doubles sizes back exactly.
  need(o.image_max_dim > 0 && o.image_max_dim % 64 == 0,
       "image_max_dim must be a positive multiple of 64 (got " + std::to_string(o.image_max_dim) + ")");
  need(o.num_classes >= 2, "num_classes must count the background and at least one class");
  need(o.resnet_layers.size() == 4, "resnet_layers must list 4 stage depths");
  need(o.backbone_strides.size() == 5, "backbone_strides must list 5 strides (P2..P6)");
  need(o.rpn_anchor_scales.size() == o.backbone_strides.size(), "rpn_anchor_scales needs one scale per stride");
  need(!o.rpn_anchor_ratios.empty(), "rpn_anchor_ratios is empty");
  need(o.rpn_anchor_stride >= 1, "rpn_anchor_stride must be >= 1");
  need(o.rpn_train_anchors_per_image >= 2, "rpn_train_anchors_per_image must be >= 2");
  need(o.pre_nms_limit >= 1 && o.post_nms_rois_training >= 1 && o.post_nms_rois_inference >= 1,
       "pre_nms_limit and post_nms_rois_* must be >= 1");
  need(o.train_rois_per_image >= 1, "train_rois_per_image must be >= 1");
  need(o.roi_positive_ratio > 0 && o.roi_positive_ratio <= 1, "roi_positive_ratio must be in (0, 1]");
  need(o.pool_size >= 1 && o.mask_pool_size >= 1, "pool sizes must be >= 1");
  need(o.mask_shape[0] == 2 * o.mask_pool_size && o.mask_shape[1] == 2 * o.mask_pool_size,
       "mask_shape must be twice mask_pool_size (the mask head up-samples by 2)");
  need(o.mini_mask_shape[0] >= 1 && o.mini_mask_shape[1] >= 1, "mini_mask_shape must be positive");
  return bad;
}

}  // namespace sdn::models::maskrcnn

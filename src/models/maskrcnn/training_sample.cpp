// Implements the frame-to-sample conversion (see training_sample.hpp).
#include "models/maskrcnn/training_sample.hpp"

#include "models/maskrcnn/image_prep.hpp"
#include "models/maskrcnn/instances.hpp"
#include "models/maskrcnn/targets.hpp"

namespace sdn::models::maskrcnn {

TrainingSample make_training_sample(const torch::Tensor& rgb, const std::vector<std::uint8_t>& classes,
                                    const std::vector<std::uint16_t>& instance, bool flip, const MaskRcnnOptions& o,
                                    const torch::Tensor& anchors, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const auto h = static_cast<int>(rgb.size(0)), w = static_cast<int>(rgb.size(1));
  auto inst = extract_vehicle_instances(classes, instance, w, h, o.min_instance_pixels);
  auto plan = plan_resize(h, w, o);
  TrainingSample s;
  s.window = plan.window;
  s.image = mold_image(rgb, plan, o);
  auto masks = mold_masks(inst.masks, plan, o);
  if (flip) {
    // The original flips the padded square (np.fliplr after resize_image), so the window mirrors too.
    s.image = s.image.flip({2});
    masks = masks.flip({2});
    const int64_t side = o.image_size();
    auto& win = s.window.window;
    win = {win[0], side - win[3], win[2], side - win[1]};
  }
  auto boxes = extract_bboxes(masks);
  // An instance the resize erased would make an empty box (the original raises); it is dropped.
  auto alive =
      ((boxes.select(1, 2) > boxes.select(1, 0)) & (boxes.select(1, 3) > boxes.select(1, 1))).nonzero().select(1, 0);
  boxes = boxes.index_select(0, alive);
  masks = masks.index_select(0, alive);
  if (o.max_gt_instances > 0 && boxes.size(0) > o.max_gt_instances) {
    auto pick = std::get<0>(torch::randperm(boxes.size(0), gen, torch::kLong).slice(0, 0, o.max_gt_instances).sort());
    boxes = boxes.index_select(0, pick);
    masks = masks.index_select(0, pick);
    alive = alive.index_select(0, pick);
  }
  s.gt.class_ids = inst.class_ids.index_select(0, alive);
  s.gt.boxes = boxes.to(torch::kFloat);
  s.gt.masks = boxes.size(0) ? minimize_masks(masks, boxes, o.mini_mask_shape)
                             : torch::zeros({0, o.mini_mask_shape[0], o.mini_mask_shape[1]});
  auto rpn = build_rpn_targets(anchors, s.gt.class_ids, s.gt.boxes, o, gen);
  s.gt.rpn_match = rpn.match;
  s.gt.rpn_bbox = rpn.deltas;
  return s;
}

}  // namespace sdn::models::maskrcnn

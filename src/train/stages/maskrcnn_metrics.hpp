// Detection AP of the Mask R-CNN stage, COCO-style (pycocotools COCOeval): per image, detections by descending
// score are matched greedily to the unmatched ground truth of their class with the highest IoU >= t, for the ten
// thresholds t = 0.50, 0.55, ..., 0.95; per class, AP = the mean over 101 recall points of the interpolated
// (monotone) precision. No crowd regions and one area range (all). Pure functions: the stage gathers the
// per-image records of every rank and computes AP once, so the result does not depend on the world size.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace sdn::train {

constexpr int kIouThresholds = 10;  // 0.50 : 0.05 : 0.95

// One detection after matching: class, score and bit t set when it is a true positive at threshold t.
struct DetectionRecord {
  int class_id = 0;
  double score = 0;
  std::uint32_t box_tp = 0, mask_tp = 0;
};

// Matches one image's detections to its ground truth. iou_box / iou_mask: [D, G] IoUs (D detections by
// descending score, G ground-truth instances); det_class [D], gt_class [G].
std::vector<DetectionRecord> match_image(const std::vector<int>& det_class, const std::vector<double>& det_score,
                                         const std::vector<int>& gt_class, const torch::Tensor& iou_box,
                                         const torch::Tensor& iou_mask);

// Box IoU of [D, 4] and [G, 4] (y1, x1, y2, x2) boxes with exclusive y2/x2 (COCO's area w*h): [D, G] double.
torch::Tensor box_iou(const torch::Tensor& a, const torch::Tensor& b);
// Pixel IoU of binary masks [D, H, W] and [G, H, W]: [D, G] double.
torch::Tensor mask_iou(const torch::Tensor& a, const torch::Tensor& b);

// COCO AP of one class at one threshold: records in the order they were produced (stable-sorted here by
// descending score), `tp` picks the threshold bit; npos ground-truth instances. -1 when npos = 0.
double average_precision(std::vector<DetectionRecord> records, bool mask, int threshold, std::int64_t npos);

}  // namespace sdn::train

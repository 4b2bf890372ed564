// The objects `sdn predict` of the derenderer derenders in one frame, from either source of the original's
// main.py test(): `gt`, the frame's Car/Van instance masks with their tight boxes, or `maskrcnn`, the detections
// a Mask R-CNN run's `sdn predict` wrote (docs/data-format.md "Mask R-CNN detections"), each with its detected
// box as the ROI. Both give the same list, which derender_predict.cpp crops, derenders and paints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/derender_targets.hpp"
#include "data/sample.hpp"

namespace sdn::train {

struct PredictObject {
  int key = 0;        // the JSON key and instance-map value: /objects row + 1, or the detection's id
  int class_id = 0;   // 3D-SDN id (Car 2, Van 12)
  int track_id = -1;  // gt only
  double score = -1;  // maskrcnn only: the detection's class probability
  data::derender::Roi roi{};
  std::vector<std::uint8_t> mask;  // width x height, 1 = the object's pixels
  bool interest = false;           // derendered: Car/Van with more than 16^2 mask pixels (main.py _test)
};

// Every object row of `frame` with instance pixels, in row order.
std::vector<PredictObject> gt_objects(const data::Sample& frame);

// The detections of one frame, read from `dir`/<world>/<variation>/<NNNNN>.json and its mask PNGs, in the file's
// order (descending mask area). A missing or malformed file is a UsageError naming it and derender.detections.
std::vector<PredictObject> detected_objects(const std::string& dir, const std::string& world,
                                            const std::string& variation, int frame, int width, int height);

}  // namespace sdn::train

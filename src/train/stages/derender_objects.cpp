// Implements the derenderer's per-frame object sources for `sdn predict` (see derender_objects.hpp).
#include "train/stages/derender_objects.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"

namespace sdn::train {
namespace {

constexpr int kCar = 2, kVan = 12;
constexpr int kMinPixels = 16 * 16;  // the original's test-time interest threshold (mask sum)

bool interesting(int class_id, const std::vector<std::uint8_t>& mask) {
  return (class_id == kCar || class_id == kVan) && std::count(mask.begin(), mask.end(), 1) > kMinPixels;
}

const char* const kHint = "point derender.detections at the --out directory of `sdn predict` of a Mask R-CNN run on "
                          "the same split, or set derender.predict_boxes = gt";

}  // namespace

std::vector<PredictObject> gt_objects(const data::Sample& s) {
  std::vector<PredictObject> out;
  for (size_t r = 0; r < s.objects.size(); ++r) {
    const auto& o = s.objects[r];
    PredictObject p;
    p.key = static_cast<int>(r) + 1;
    p.class_id = o.class_id;
    p.track_id = o.track_id;
    const int id = o.track_id + 1;
    if (id <= 0 || id > 65535 ||
        !data::derender::instance_roi(s.instance, s.width, s.height, static_cast<std::uint16_t>(id), p.roi))
      continue;
    p.mask.resize(s.instance.size());
    for (size_t q = 0; q < p.mask.size(); ++q) p.mask[q] = s.instance[q] == id;
    p.interest = interesting(p.class_id, p.mask);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PredictObject> detected_objects(const std::string& dir, const std::string& world,
                                            const std::string& variation, int frame, int width, int height) {
  char name[32];
  std::snprintf(name, sizeof name, "%05d", frame);
  const std::string folder = dir + "/" + world + "/" + variation;
  const std::string path = folder + "/" + name + ".json";
  if (!std::filesystem::is_regular_file(path))
    throw UsageError("derender.detections: no " + path + " (the detections of frame " + std::to_string(frame) +
                         " of " + world + "/" + variation + ")",
                     kHint);
  std::vector<PredictObject> out;
  try {
    const auto doc = nlohmann::json::parse(fs::read_file(path));
    if (doc.at("width").get<int>() != width || doc.at("height").get<int>() != height)
      throw UsageError("derender.detections: " + path + " is for a " + std::to_string(doc.at("width").get<int>()) +
                           "x" + std::to_string(doc.at("height").get<int>()) + " frame, the split's frame is " +
                           std::to_string(width) + "x" + std::to_string(height),
                       kHint);
    for (const auto& d : doc.at("detections")) {
      PredictObject p;
      p.key = d.at("id").get<int>();
      const int c = d.at("class_id").get<int>();
      if (c != 1 && c != 2)
        throw UsageError("derender.detections: " + path + ": detection " + std::to_string(p.key) + " has class_id " +
                             std::to_string(c) + " (expected 1 car or 2 van)",
                         kHint);
      if (p.key < 1 || p.key > 255)
        throw UsageError("derender.detections: " + path + ": detection id " + std::to_string(p.key) +
                             " is outside 1..255 (the 8-bit instance map)",
                         kHint);
      p.class_id = c == 1 ? kCar : kVan;
      p.score = d.at("score").get<double>();
      const auto box = d.at("box").get<std::vector<int>>();
      if (box.size() != 4)
        throw UsageError("derender.detections: " + path + ": detection " + std::to_string(p.key) +
                             ": box must be [y1, x1, y2, x2]",
                         kHint);
      p.roi = {box[0], box[1], box[2], box[3]};
      const std::string mask_path = folder + "/" + d.at("mask").get<std::string>();
      if (!std::filesystem::is_regular_file(mask_path))
        throw UsageError("derender.detections: no " + mask_path + " (the mask of detection " + std::to_string(p.key) +
                             " in " + path + ")",
                         kHint);
      auto m = data::img::read_png_indices(mask_path);
      if (m.width != width || m.height != height)
        throw UsageError("derender.detections: " + mask_path + " is not of the frame's size " + std::to_string(width) +
                             "x" + std::to_string(height),
                         kHint);
      p.mask.resize(m.pixels.size());
      for (size_t q = 0; q < p.mask.size(); ++q) p.mask[q] = m.pixels[q] != 0;
      // An empty box cannot be normalised into the network's ROI input: such a detection is only painted.
      p.interest = box[2] > box[0] && box[3] > box[1] && interesting(p.class_id, p.mask);
      out.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    throw UsageError("derender.detections: " + path + " is not a Mask R-CNN detection file: " + e.what(), kHint);
  }
  return out;
}

}  // namespace sdn::train

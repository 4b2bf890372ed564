// Implements the ground-truth instance extraction (see instances.hpp).
#include "models/maskrcnn/instances.hpp"

#include <map>
#include <utility>

#include "core/error.hpp"

namespace sdn::models::maskrcnn {
namespace {

constexpr std::uint8_t kCar = 2, kVan = 12;  // 3D-SDN class ids (data/vkitti.hpp)

}  // namespace

GtInstances extract_vehicle_instances(const std::vector<std::uint8_t>& classes,
                                      const std::vector<std::uint16_t>& instance, int width, int height,
                                      int64_t min_pixels) {
  const size_t n = static_cast<size_t>(width) * static_cast<size_t>(height);
  if (classes.size() != n || instance.size() != n)
    throw Error("extract_vehicle_instances: planes of " + std::to_string(classes.size()) + " and " +
                std::to_string(instance.size()) + " pixels for a " + std::to_string(width) + "x" +
                std::to_string(height) + " frame");
  // (model class, instance id) -> pixel count; std::map keeps cars before vans, ids ascending.
  std::map<std::pair<int, int>, int64_t> counts;
  for (size_t i = 0; i < n; ++i) {
    if (instance[i] == 0) continue;
    const int cls = classes[i] == kCar ? 1 : classes[i] == kVan ? 2 : 0;
    if (cls) ++counts[{cls, instance[i]}];
  }
  std::vector<std::pair<int, int>> kept;
  for (const auto& [key, count] : counts)
    if (count > min_pixels) kept.push_back(key);
  GtInstances g;
  const auto g_count = static_cast<int64_t>(kept.size());
  g.class_ids = torch::empty({g_count}, torch::kLong);
  g.masks = torch::zeros({g_count, height, width}, torch::kUInt8);
  for (int64_t k = 0; k < g_count; ++k) {
    g.class_ids[k] = kept[k].first;
    auto* m = g.masks[k].data_ptr<std::uint8_t>();
    const std::uint8_t want = kept[k].first == 1 ? kCar : kVan;
    for (size_t i = 0; i < n; ++i) m[i] = instance[i] == kept[k].second && classes[i] == want;
  }
  return g;
}

torch::Tensor extract_bboxes(const torch::Tensor& masks) {
  const int64_t g = masks.size(0);
  auto boxes = torch::zeros({g, 4}, torch::kLong);
  for (int64_t i = 0; i < g; ++i) {
    auto m = masks[i].to(torch::kCPU) != 0;
    auto rows = m.any(1).nonzero(), cols = m.any(0).nonzero();
    if (rows.size(0) == 0) continue;
    boxes[i][0] = rows[0][0].item<int64_t>();
    boxes[i][1] = cols[0][0].item<int64_t>();
    boxes[i][2] = rows[-1][0].item<int64_t>() + 1;
    boxes[i][3] = cols[-1][0].item<int64_t>() + 1;
  }
  return boxes;
}

torch::Tensor minimize_masks(const torch::Tensor& masks, const torch::Tensor& boxes, std::array<int64_t, 2> shape) {
  const int64_t g = masks.size(0);
  auto out = torch::zeros({g, shape[0], shape[1]}, torch::kFloat);
  for (int64_t i = 0; i < g; ++i) {
    const int64_t y1 = boxes[i][0].item<int64_t>(), x1 = boxes[i][1].item<int64_t>();
    const int64_t y2 = boxes[i][2].item<int64_t>(), x2 = boxes[i][3].item<int64_t>();
    if (y2 <= y1 || x2 <= x1) throw Error("minimize_masks: instance " + std::to_string(i) + " has an empty box");
    auto crop = masks[i].slice(0, y1, y2).slice(1, x1, x2).to(torch::kFloat).view({1, 1, y2 - y1, x2 - x1});
    // PIL's bilinear resize (scipy.misc.imresize) filters when it shrinks: antialias reproduces that.
    auto r = torch::nn::functional::interpolate(crop, torch::nn::functional::InterpolateFuncOptions()
                                                          .size(std::vector<int64_t>{shape[0], shape[1]})
                                                          .mode(torch::kBilinear)
                                                          .align_corners(false)
                                                          .antialias(y2 - y1 > shape[0] || x2 - x1 > shape[1]));
    out[i].copy_((r.view({shape[0], shape[1]}) >= 0.5).to(torch::kFloat));
  }
  return out;
}

}  // namespace sdn::models::maskrcnn

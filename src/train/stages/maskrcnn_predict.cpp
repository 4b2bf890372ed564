// `sdn predict` of the Mask R-CNN stage: per frame what the geometric pipeline (the derenderer) consumes, under
// OUT/<world>/<variation>/ (docs/data-format.md "Mask R-CNN detections"): the top predict_max_objects car/van
// detections by mask area with an area above predict_min_mask_area, as <frame>.json (boxes, classes, scores,
// areas), <frame>_instances.png (detection k+1 per pixel, larger masks painted first), one binary
// <frame>_mask<k>.png per detection, and <frame>_vis.png (the frame with tinted masks and box outlines).
#include <algorithm>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/mpi_session.hpp"
#include "train/stages/maskrcnn_stage.hpp"

namespace sdn::train {
namespace {

// Distinct colours for detection ids 1.. (0 = background, black).
std::array<std::uint8_t, 3> colour_of(int id) {
  static const std::uint8_t table[8][3] = {{230, 25, 75}, {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                           {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230}};
  if (id <= 0) return {0, 0, 0};
  const auto* c = table[(id - 1) % 8];
  return {c[0], c[1], c[2]};
}

}  // namespace

std::string MaskRcnnStage::predict(const data::ShardSet& set, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  model_->eval();
  std::vector<std::int64_t> indices = options.indices;
  if (indices.empty())
    for (std::int64_t i = 0; i < (options.limit > 0 ? std::min(options.limit, set.size()) : set.size()); ++i)
      indices.push_back(i);
  auto mine = data::eval_range(static_cast<std::int64_t>(indices.size()), comm.rank(), comm.size());
  data::img::Palette palette{{0, 0, 0}};
  for (int id = 1; id < 256; ++id) {
    auto c = colour_of(id);
    palette.push_back({c[0], c[1], c[2]});
  }
  const data::img::Palette binary{{0, 0, 0}, {255, 255, 255}};
  static const char* kNames[3] = {"background", "car", "van"};
  data::Sample s;
  for (std::int64_t k = mine.begin; k < mine.end; ++k) {
    const auto i = indices[static_cast<size_t>(k)];
    if (i < 0 || i >= set.size())
      throw UsageError("--indices: " + std::to_string(i) + " is outside the split's " + std::to_string(set.size()) + " samples");
    set.read(i, fields(), s);
    auto info = set.info(i);
    auto d = detect_frame(s);
    const int w = s.width, h = s.height;
    const auto n = d.class_ids.size(0);
    std::vector<std::int64_t> area(static_cast<size_t>(n));
    for (std::int64_t j = 0; j < n; ++j) area[static_cast<size_t>(j)] = d.masks[j].sum().item<std::int64_t>();
    std::vector<std::int64_t> order;
    for (std::int64_t j = 0; j < n; ++j) {
      const auto c = d.class_ids[j].item<std::int64_t>();
      if ((c == 1 || c == 2) && area[static_cast<size_t>(j)] > options_.predict_min_mask_area) order.push_back(j);
    }
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return area[a] > area[b]; });
    if (order.size() > static_cast<size_t>(options_.predict_max_objects)) order.resize(options_.predict_max_objects);

    const std::string dir = options.out + "/" + info.world + "/" + info.variation;
    fs::ensure_writable_dir(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%05d", info.frame);
    const std::string base = dir + "/" + name;
    data::img::Image8 instances{w, h, 1, std::vector<std::uint8_t>(static_cast<size_t>(w) * h, 0)};
    data::img::Image8 vis{w, h, 3, s.rgb};
    nlohmann::ordered_json doc;
    doc["world"] = info.world;
    doc["variation"] = info.variation;
    doc["frame"] = info.frame;
    doc["width"] = w;
    doc["height"] = h;
    doc["detections"] = nlohmann::ordered_json::array();
    for (size_t r = 0; r < order.size(); ++r) {
      const auto j = order[r];
      const int id = static_cast<int>(r) + 1;
      auto mask = d.masks[j].to(torch::kUInt8).contiguous();
      const auto* m = mask.data_ptr<std::uint8_t>();
      data::img::Image8 bin{w, h, 1, std::vector<std::uint8_t>(m, m + static_cast<size_t>(w) * h)};
      const std::string mask_file = std::string(name) + "_mask" + std::to_string(id) + ".png";
      data::img::write_png_palette(dir + "/" + mask_file, bin, binary);
      const auto col = colour_of(id);
      for (size_t p = 0; p < bin.pixels.size(); ++p) {
        if (!bin.pixels[p]) continue;
        instances.pixels[p] = static_cast<std::uint8_t>(id);
        for (int ch = 0; ch < 3; ++ch)
          vis.pixels[p * 3 + ch] = static_cast<std::uint8_t>((vis.pixels[p * 3 + ch] + col[ch]) / 2);
      }
      const auto box = d.boxes[j];
      const int y1 = box[0].item<int>(), x1 = box[1].item<int>(), y2 = box[2].item<int>(), x2 = box[3].item<int>();
      auto dot = [&](int y, int x) {
        if (y < 0 || x < 0 || y >= h || x >= w) return;
        for (int ch = 0; ch < 3; ++ch) vis.pixels[(static_cast<size_t>(y) * w + x) * 3 + ch] = col[ch];
      };
      for (int x = x1; x < x2; ++x) dot(y1, x), dot(y2 - 1, x);
      for (int y = y1; y < y2; ++y) dot(y, x1), dot(y, x2 - 1);
      const auto c = d.class_ids[j].item<std::int64_t>();
      doc["detections"].push_back({{"id", id},
                                   {"class", kNames[c]},
                                   {"class_id", c},
                                   {"score", d.scores[j].item<double>()},
                                   {"box", {y1, x1, y2, x2}},
                                   {"mask_area", area[static_cast<size_t>(j)]},
                                   {"mask", mask_file}});
    }
    data::img::write_png_palette(base + "_instances.png", instances, palette);
    data::img::write_png_rgb8(base + "_vis.png", vis);
    fs::write_atomic(base + ".json", doc.dump(1) + "\n");
  }
  return "detections for " + std::to_string(indices.size()) + " frame(s) in " + options.out;
}

}  // namespace sdn::train

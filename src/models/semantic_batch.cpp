// Implements the semantic input conversion (see semantic_batch.hpp).
#include "models/semantic_batch.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace sdn::models {
namespace {

void check_sample(const SemanticImage& s, size_t index, bool want_classes) {
  const std::string which = "semantic batch: sample " + std::to_string(index);
  if (s.height <= 0 || s.width <= 0 || s.rgb == nullptr) throw Error(which + " is empty (no pixels or no RGB)");
  if ((s.classes != nullptr) != want_classes)
    throw Error(which + (want_classes ? " has no class map" : " has a class map") + " while sample 0 " +
                    (want_classes ? "has one" : "has none"),
                "either every sample of a batch carries labels or none does");
}

void fill_image(const SemanticImage& s, const SemanticBatchOptions& o, torch::Tensor out /* 3 x Hp x Wp */) {
  auto a = out.accessor<float, 3>();
  const std::uint8_t* px = s.rgb;
  // float32 subtract-then-divide, as torchvision's Normalize does, so the values match the original bit for bit.
  float mean[3], std[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<float>(o.mean[c]);
    std[c] = static_cast<float>(o.std[c]);
  }
  for (int64_t y = 0; y < s.height; ++y) {
    for (int64_t x = 0; x < s.width; ++x, px += 3) {
      // Output channel c is BGR channel c = RGB channel 2 - c, normalised with mean[c], std[c].
      for (int c = 0; c < 3; ++c) a[c][y][x] = (static_cast<float>(px[2 - c]) - mean[c]) / std[c];
    }
  }
}

void fill_labels(const SemanticImage& s, size_t index, const SemanticBatchOptions& o, torch::Tensor out) {
  auto a = out.accessor<int64_t, 2>();
  const int64_t stride = o.label_stride;
  const int64_t offset = stride / 2;
  for (int64_t i = 0; i < out.size(0); ++i) {
    const int64_t y = i * stride + offset;
    for (int64_t j = 0; j < out.size(1); ++j) {
      const int64_t x = j * stride + offset;
      if (y >= s.height || x >= s.width) continue;  // padding stays -1
      const std::uint8_t id = s.classes[y * s.width + x];
      if (id != 255 && id >= o.num_classes)
        throw Error("semantic batch: sample " + std::to_string(index) + " has class id " + std::to_string(id) +
                        " at (row " + std::to_string(y) + ", col " + std::to_string(x) + "); valid ids are 0.." +
                        std::to_string(o.num_classes - 1) + " and 255 (unlabelled)",
                    "the class maps must hold 3D-SDN class ids; re-pack the dataset with this version of sdn");
      a[i][j] = training_label(id);
    }
  }
}

}  // namespace

SemanticBatch make_semantic_batch(const std::vector<SemanticImage>& samples, const SemanticBatchOptions& o) {
  if (samples.empty()) throw Error("semantic batch: no samples");
  if (o.padding_constant < 1 || o.label_stride < 1 || o.padding_constant % o.label_stride != 0)
    throw Error("semantic batch: padding_constant must be a positive multiple of label_stride");
  const bool with_classes = samples[0].classes != nullptr;
  int64_t max_h = 0, max_w = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    check_sample(samples[i], i, with_classes);
    max_h = std::max(max_h, samples[i].height);
    max_w = std::max(max_w, samples[i].width);
  }
  const int64_t hp = round_up(max_h, o.padding_constant);
  const int64_t wp = round_up(max_w, o.padding_constant);
  const auto n = static_cast<int64_t>(samples.size());

  SemanticBatch batch;
  batch.images = torch::zeros({n, 3, hp, wp}, torch::kFloat32);
  if (with_classes) batch.labels = torch::full({n, hp / o.label_stride, wp / o.label_stride}, -1, torch::kLong);
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    batch.sizes.push_back({s.height, s.width});
    fill_image(s, o, batch.images[static_cast<int64_t>(i)]);
    if (with_classes) fill_labels(s, i, o, batch.labels[static_cast<int64_t>(i)]);
  }
  return batch;
}

}  // namespace sdn::models

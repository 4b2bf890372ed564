// Implements the textural input encoding (see textural_inputs.hpp).
#include "models/textural/textural_inputs.hpp"

#include <cmath>

#include "core/error.hpp"
#include "models/state_dict.hpp"

namespace sdn::models::textural {
namespace {

void check_map(const torch::Tensor& t, const char* what) {
  if (t.dim() != 4 || t.size(1) != 1)
    throw Error(std::string("textural inputs: ") + what + " must be [B,1,H,W], got " + shape_text(t.sizes()));
}

void check_same_frame(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  if (a.size(0) != b.size(0) || a.size(2) != b.size(2) || a.size(3) != b.size(3))
    throw Error(std::string("textural inputs: ") + what + " " + shape_text(b.sizes()) + " does not match " +
                shape_text(a.sizes()) + " in batch or size");
}

}  // namespace

torch::Tensor one_hot_map(const torch::Tensor& labels, int64_t channels) {
  check_map(labels, "labels");
  auto idx = labels.to(torch::kLong);
  if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= channels))
    throw Error("textural inputs: a label lies outside [0, " + std::to_string(channels) + ")",
                "labels are semantic predictions + 1 (1..13), pose bins 0..24");
  auto out = torch::zeros({labels.size(0), channels, labels.size(2), labels.size(3)},
                          torch::TensorOptions().device(labels.device()));
  return out.scatter_(1, idx, 1.0);
}

torch::Tensor instance_edges(const torch::Tensor& t) {
  check_map(t, "instances");
  using torch::indexing::None;
  using torch::indexing::Slice;
  auto edge = torch::zeros(t.sizes(), torch::TensorOptions().dtype(torch::kBool).device(t.device()));
  auto dx = t.index({Slice(), Slice(), Slice(), Slice(1, None)}) !=
            t.index({Slice(), Slice(), Slice(), Slice(None, -1)});
  auto dy = t.index({Slice(), Slice(), Slice(1, None), Slice()}) !=
            t.index({Slice(), Slice(), Slice(None, -1), Slice()});
  edge.index({Slice(), Slice(), Slice(), Slice(1, None)}).logical_or_(dx);
  edge.index({Slice(), Slice(), Slice(), Slice(None, -1)}).logical_or_(dx);
  edge.index({Slice(), Slice(), Slice(1, None), Slice()}).logical_or_(dy);
  edge.index({Slice(), Slice(), Slice(None, -1), Slice()}).logical_or_(dy);
  return edge.to(torch::kFloat);
}

LabelAndInstances compose_label_and_instances(const torch::Tensor& semantic, const torch::Tensor& objects) {
  check_map(semantic, "semantic map");
  check_map(objects, "object map");
  check_same_frame(semantic, objects, "object map");
  auto labels = semantic.to(torch::kLong) + 1;
  auto obj = objects.to(labels.device(), torch::kLong);
  auto background = obj == 0;
  labels.masked_fill_(background & ((labels == kCarLabel) | (labels == kVanLabel)), kRoadLabel);
  auto inst = torch::where(background, labels, obj * kInstanceScale).to(torch::kFloat);
  return {labels, inst};
}

int64_t pose_bin(double alpha) {
  const double x = alpha / M_PI;
  // np.digitize with increasing bins: the number of edges <= x. The edges are k / 180 for k = -180, -165, ...,
  // 180, computed as the original does (integer / 180 in double).
  int64_t bin = 0;
  for (int k = -180; k <= 180; k += 360 / static_cast<int>(kPoseBins))
    if (static_cast<double>(k) / 180.0 <= x) ++bin;
  return std::min<int64_t>(bin, kPoseBins);
}

torch::Tensor pose_bins(const torch::Tensor& objects, const std::vector<std::map<int64_t, double>>& alpha_of) {
  check_map(objects, "object map");
  if (static_cast<int64_t>(alpha_of.size()) != objects.size(0))
    throw Error("textural inputs: " + std::to_string(alpha_of.size()) + " pose tables for a batch of " +
                std::to_string(objects.size(0)));
  auto obj = objects.to(torch::kCPU, torch::kLong).contiguous();
  auto out = torch::zeros_like(obj);
  const int64_t plane = obj.size(2) * obj.size(3);
  const auto* src = obj.data_ptr<int64_t>();
  auto* dst = out.data_ptr<int64_t>();
  for (int64_t b = 0; b < obj.size(0); ++b) {
    const auto& table = alpha_of[static_cast<size_t>(b)];
    std::map<int64_t, int64_t> bin_of;
    for (const auto& [id, alpha] : table) bin_of[id] = pose_bin(alpha);
    for (int64_t i = b * plane; i < (b + 1) * plane; ++i) {
      if (src[i] == 0) continue;
      auto it = bin_of.find(src[i]);
      if (it != bin_of.end()) dst[i] = it->second;
    }
  }
  return out.to(objects.device());
}

torch::Tensor normal_channels(const torch::Tensor& rgb) {
  if (rgb.dim() != 4 || rgb.size(1) != 3)
    throw Error("textural inputs: the normal map must be [B,3,H,W], got " + shape_text(rgb.sizes()));
  auto x = rgb.to(torch::kFloat) / 255.0;
  return (x - 0.5) / 0.5 + 1.0 / 255.0;
}

torch::Tensor label_and_edges(const torch::Tensor& labels, const torch::Tensor& instances) {
  check_same_frame(labels, instances, "instance map");
  return torch::cat({one_hot_map(labels, kLabelChannels), instance_edges(instances)}, 1);
}

torch::Tensor generator_input(const torch::Tensor& label_edges, const torch::Tensor& features,
                              const torch::Tensor& pose, const torch::Tensor& normals) {
  check_same_frame(label_edges, features, "feature map");
  check_same_frame(label_edges, pose, "pose map");
  check_same_frame(label_edges, normals, "normal map");
  return torch::cat({label_edges, features, one_hot_map(pose, kPoseChannels), normals}, 1);
}

torch::Tensor discriminator_input(const torch::Tensor& label_edges, const torch::Tensor& image) {
  check_same_frame(label_edges, image, "image");
  return torch::cat({label_edges, image}, 1);
}

}  // namespace sdn::models::textural

// Implements the model registry and the shared parts of the interface (see segmentation_model.hpp).
#include "models/segmentation_model.hpp"

#include <functional>
#include <utility>

#include "core/error.hpp"
#include "models/drn.hpp"
#include "models/resnet_ppm_seg.hpp"

namespace sdn::models {
namespace {

struct Entry {
  std::string name;
  std::function<std::shared_ptr<SegmentationModelImpl>(const SemanticModelOptions&)> make;
  bool global_pooling;  // has a 1x1 pooled branch whose BatchNorm sees one value per image
};

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {ResnetPpmSegImpl::kArch,
       [](const SemanticModelOptions& o) {
         return std::make_shared<ResnetPpmSegImpl>(ResnetPpmSegOptions(o.num_classes).seed(o.seed));
       },
       true},
      {DrnSegImpl::kArch,
       [](const SemanticModelOptions& o) {
         return std::make_shared<DrnSegImpl>(DrnSegOptions(o.num_classes).seed(o.seed));
       },
       false},
  };
  return entries;
}

const Entry& find(const std::string& arch) {
  for (const auto& e : registry())
    if (e.name == arch) return e;
  std::string names;
  for (const auto& e : registry()) names += (names.empty() ? "" : ", ") + e.name;
  throw UsageError("unknown semantic model '" + arch + "'", "choose one of: " + names);
}

}  // namespace

std::vector<torch::Tensor> SegmentationModelImpl::trainable_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

const std::vector<std::string>& semantic_model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : registry()) v.push_back(e.name);
    return v;
  }();
  return names;
}

SegmentationModel build_semantic_model(const SemanticModelOptions& options) {
  const auto& entry = find(options.arch);
  if (options.num_classes < 2)
    throw UsageError("semantic model: num_classes must be at least 2, got " + std::to_string(options.num_classes));
  // Converted first so ModuleHolder takes the shared_ptr instead of trying to construct the abstract base.
  std::shared_ptr<SegmentationModelImpl> impl = entry.make(options);
  return SegmentationModel(impl);
}

std::string batch_norm_batch_problem(const std::string& arch, int64_t per_rank_batch, int world_size) {
  const auto& entry = find(arch);
  if (!entry.global_pooling || per_rank_batch * world_size >= 2) return {};
  return "model '" + arch + "' cannot train with " + std::to_string(per_rank_batch) + " image(s) per rank on " +
         std::to_string(world_size) +
         " rank(s): the pyramid-pooling scale-1 branch gives one value per channel per image, and its BatchNorm "
         "needs at least 2 across the batch; use a per-rank batch >= 2, or >= 2 ranks (SyncBatchNorm sums the "
         "statistics across ranks); gradient accumulation does not help BatchNorm statistics";
}

}  // namespace sdn::models

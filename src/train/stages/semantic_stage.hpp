// The 3D-SDN semantic branch as a training stage: a SegmentationModel (resnet50dilated8 + PPM deep-sup, or
// DRN-D-22), SGD with momentum and weight decay over all parameters, the original's poly schedule (applied
// after each step, so step s trains with the rate of iteration s-1), the NLL loss with deep supervision,
// multi-scale evaluation (softmax averaged over short sides, then argmax; pixel accuracy and mIoU) and the
// label maps the textural branch reads (`sdn predict`).
#pragma once

#include <vector>

#include "models/segmentation_model.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/semantic_options.hpp"

namespace sdn::train {

class SemanticStage : public Stage {
 public:
  SemanticStage(const TrainConfig& config, const StageContext& context);

  std::string name() const override { return "semantic"; }
  data::Fields fields() const override;
  data::AugmentOptions augment() const override;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
  std::vector<Phase>& phases() override { return phases_; }
  std::vector<std::string> terms() const override { return {"loss", "pixel_acc"}; }
  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) override;
  double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const override;
  EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& options, const dist::Communicator& comm) override;
  std::string predict(const data::ShardSet& set, const InferenceOptions& options, const dist::Communicator& comm) override;
  torch::Device device() const override { return device_; }
  std::string weights_name(const std::string&) const override { return options_.model.arch; }

  // Class probabilities (N=1) of one unaugmented sample, averaged over `scales` short sides, at full size.
  torch::Tensor predict_probabilities(const data::Sample& sample, const std::vector<int>& scales);
  models::SegmentationModel& model() { return model_; }

 private:
  std::vector<int> scales_or_default(const InferenceOptions& o) const;

  TrainConfig config_;
  SemanticOptions options_;
  torch::Device device_;
  models::SegmentationModel model_;
  std::vector<Phase> phases_;
};

// The registry entry of the semantic stage.
StageSpec semantic_stage_spec();

}  // namespace sdn::train

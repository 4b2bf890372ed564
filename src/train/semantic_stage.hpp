// The 3D-SDN semantic branch as a training stage: a SegmentationModel (resnet50dilated8 + PPM deep-sup, or
// DRN-D-22), SGD with momentum and weight decay over all parameters, the original's poly schedule (applied
// after each step, so step s trains with the rate of iteration s-1), the NLL loss with deep supervision, and
// multi-scale evaluation (softmax averaged over short sides, then argmax; pixel accuracy and mIoU).
#pragma once

#include <vector>

#include "models/segmentation_model.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"

namespace sdn::train {

class SemanticStage : public Stage {
 public:
  // `cross_rank_sum` synchronises BatchNorm statistics across ranks (empty: one process).
  SemanticStage(const TrainConfig& config, torch::Device device, std::function<void(torch::Tensor&)> cross_rank_sum);

  std::string name() const override { return "semantic"; }
  data::Fields fields() const override { return {true, true, false, false}; }
  data::AugmentOptions augment() const override;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
  std::vector<Phase>& phases() override { return phases_; }
  LossTerms loss(size_t phase, const std::vector<data::Sample>& micro) override;
  double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const override;
  EvalResult evaluate(const data::ShardSet& eval, std::int64_t limit, const dist::Communicator& comm) override;
  torch::Device device() const override { return device_; }

  // Class probabilities (N=1) of one unaugmented sample, averaged over `scales` short sides, at full size.
  torch::Tensor predict_probabilities(const data::Sample& sample, const std::vector<int>& scales);
  void set_eval_scales(std::vector<int> scales) { eval_scales_ = std::move(scales); }
  models::SegmentationModel& model() { return model_; }

 private:
  TrainConfig config_;
  torch::Device device_;
  models::SegmentationModel model_;
  std::vector<Phase> phases_;
  std::vector<int> eval_scales_;
};

}  // namespace sdn::train

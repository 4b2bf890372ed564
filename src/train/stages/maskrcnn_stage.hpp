// The 3D-SDN geometric branch's detector as a training stage: Mask R-CNN (ResNet-101 FPN, car/van) on whole
// frames that hold a vehicle instance (items()), the original's staged schedule as schedule points (transfer ->
// heads -> 4+ -> all, a fresh SGD per part, every BN frozen), per-sample seeded RPN/RoI sampling (resume is
// exact), the five losses as terms, COCO-style box and mask AP for eval, and per-frame detections for the
// derenderer (`sdn predict`, maskrcnn_predict.cpp; format in docs/data-format.md).
#pragma once

#include <vector>

#include "models/maskrcnn/mask_rcnn.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/maskrcnn_items.hpp"
#include "train/stages/maskrcnn_options.hpp"

namespace sdn::train {

class MaskRcnnStage : public Stage {
 public:
  MaskRcnnStage(const TrainConfig& config, const StageContext& context);

  std::string name() const override { return "maskrcnn"; }
  data::Fields fields() const override;
  data::AugmentOptions augment() const override;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"model", model_.get()}}; }
  std::vector<Phase>& phases() override { return phases_; }
  std::vector<std::string> terms() const override;
  std::shared_ptr<const std::vector<data::Item>> items(const data::ShardSet& train) override;
  void begin_step(std::int64_t step) override;
  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) override;
  double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const override;
  std::vector<std::int64_t> schedule_points(std::int64_t total_steps) const override;
  void enter_schedule(std::int64_t step, std::int64_t total_steps) override;
  EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& options, const dist::Communicator& comm) override;
  std::string predict(const data::ShardSet& set, const InferenceOptions& options, const dist::Communicator& comm) override;
  torch::Device device() const override { return device_; }
  std::string weights_name(const std::string&) const override { return "maskrcnn"; }

  // Detections of one unaugmented frame, in frame pixels (CPU tensors).
  models::maskrcnn::FrameDetections detect_frame(const data::Sample& sample);
  models::maskrcnn::MaskRcnn& model() { return model_; }
  // The RoIs per image of the last loss() call (benchmarks compare them with the Python reference's).
  const std::vector<std::int64_t>& last_rois() const { return last_rois_; }
  // The schedule part that step `step` of `total` trains in.
  size_t part_of(std::int64_t step, std::int64_t total) const;

 private:
  TrainConfig config_;
  MaskRcnnStageOptions options_;
  models::maskrcnn::MaskRcnnOptions model_options_;
  // The frames of `set` with a vehicle (maskrcnn_items.hpp), through the run's cache; rank 0 writes it.
  std::vector<data::Item> vehicle_frames(const data::ShardSet& set) const;

  torch::Device device_;
  int rank_ = 0;
  models::maskrcnn::MaskRcnn model_;
  std::vector<std::string> bn_params_;  // frozen BN weights and biases: never trainable
  std::vector<Phase> phases_;
  std::int64_t step_ = 0;
  std::vector<std::int64_t> last_rois_;
};

// The registry entry of the Mask R-CNN stage.
StageSpec maskrcnn_stage_spec();

}  // namespace sdn::train

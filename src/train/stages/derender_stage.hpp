// The 3D-SDN derenderer (geometric branch II) as a training stage, in the original's two modes
// (geometric/scripts/main.py): `pretrain` regresses the four 3D attributes (MSE), `full` adds the reprojection
// loss of the rendered silhouette, REINFORCE on the sampled mesh and the FFD regulariser, starting from a pretrain
// checkpoint (model and Adam state). Items are the Car/Van objects of the frames after the original's training
// filters; ROI jitter, colour jitter and the mesh choice are drawn from KeyedRng(seed, epoch, item), so a resume
// is exact. Adam with weight decay and StepLR per epoch as bulb's TrainMixin runs them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/derender_targets.hpp"
#include "models/derender/derenderer.hpp"
#include "models/derender/losses.hpp"
#include "models/derender/reproject.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/derender_options.hpp"

namespace sdn::train {

// One batch of object crops as the network and the losses take them (on the stage's device).
struct DerenderBatch {
  torch::Tensor images;      // [N, 3, crop, crop] normalised
  torch::Tensor roi_norms;   // [N, 4]
  torch::Tensor focals;      // [N]
  models::derender::GeometryTargets targets;
  torch::Tensor masks, ignores;  // [N, 1, mask, mask]
  torch::Tensor translations, scales;  // [N, 3] metric targets (evaluation)
  std::vector<std::int64_t> items;     // the item index of each row
  std::int64_t size() const { return static_cast<std::int64_t>(items.size()); }
};

// The network's outputs on a batch, decoded, with the reprojection when it was rendered.
struct DerenderForward {
  torch::Tensor mroi, droi;
  models::derender::DerendererOutputs out;
  bool rendered = false;
  models::derender::MeshChoice choice;
  models::derender::Reprojection reprojection;
};

class DerenderStage : public Stage {
 public:
  DerenderStage(const TrainConfig& config, const StageContext& context);

  std::string name() const override { return "derender"; }
  data::Fields fields() const override;
  data::AugmentOptions augment() const override;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"model", model_.get()}}; }
  std::vector<Phase>& phases() override { return phases_; }
  std::vector<std::string> terms() const override;
  std::shared_ptr<const std::vector<data::Item>> items(const data::ShardSet& train) override;
  void begin_step(std::int64_t step) override { step_ = step; }
  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) override;
  double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const override;
  void enter_schedule(std::int64_t step, std::int64_t total_steps) override;
  EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& options, const dist::Communicator& comm) override;
  std::string predict(const data::ShardSet& set, const InferenceOptions& options, const dist::Communicator& comm) override;
  torch::Device device() const override { return device_; }
  std::string weights_name(const std::string&) const override { return "derender3d"; }

  bool full() const { return options_.mode == "full"; }
  const DerenderOptions& options() const { return options_; }
  models::derender::Derenderer& model() { return model_; }

  // The objects the stage trains and evaluates on: the original's filters (box area > 16^2, truncation < 0.7,
  // occupancy > 0.3) on Car and Van rows.
  static std::vector<data::Item> object_items(const data::ShardSet& shards);
  // Crops of `samples` (each names its object). `epoch` keys the training draws; training = false: no jitter.
  // Samples whose object has no instance pixels are left out.
  DerenderBatch make_batch(const std::vector<data::Sample>& samples, bool training, std::int64_t epoch) const;
  // Network inputs only (images, ROIs, focals; items 0..n-1) of the ROIs of one frame, without jitter: what
  // `sdn predict` derenders, from ground-truth or detected boxes alike.
  DerenderBatch crop_batch(const data::Sample& frame, const std::vector<data::derender::Roi>& rois) const;
  // Network forward; `render` adds the reprojection (uniforms empty: the most probable mesh).
  DerenderForward forward(const DerenderBatch& batch, bool render, const std::vector<double>& uniforms);

 private:
  void load_pretrained();
  std::int64_t epoch_of_step(std::int64_t step) const;

  TrainConfig config_;
  DerenderOptions options_;
  torch::Device device_;
  int rank_ = 0;
  models::derender::Derenderer model_{nullptr};
  models::derender::MeshBank bank_;
  std::vector<std::string> mesh_names_;
  std::vector<Phase> phases_;
  std::int64_t step_ = 0;
  std::int64_t sampler_steps_per_epoch_ = 0;  // items / global batch: the sampler's epoch (keys the draws)
};

// The registry entry of the derenderer stage.
StageSpec derender_stage_spec();

// The 8 meshes a derenderer run chooses from (derender.meshes, or sdn's generated vehicles) as the stage builds
// them, on the CPU, with their names in class order (`sdn edit` re-renders a run's predictions with them).
models::derender::MeshBank derender_mesh_bank(const DerenderOptions& options, std::int64_t grid_size,
                                              std::vector<std::string>* names = nullptr);

// A frame view of a loader sample (the derenderer's crop helpers take data::Frame).
data::Frame frame_of(const data::Sample& sample);

}  // namespace sdn::train

// The 3D-SDN textural branch (pix2pixHD: netG, netE, netD) as a training stage: two phases per step, G (G+E
// Adam) then D (D Adam), both from one generator forward (D reuses the fake made before the G step); the
// original's scale-width / random-crop / flip pipeline keyed by (seed, step, item); the 100 + 100 epoch
// schedule; eval = test.py's mean L1 plus PSNR and SSIM; predict = reconstructions and image | reconstruction
// strips. Inputs come from the shards' ground truth or from the semantic run's predicted label maps and the
// derenderer run's instance maps, poses and normal maps.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/rng.hpp"
#include "data/shard_set.hpp"
#include "models/textural/textural_loss.hpp"
#include "models/textural/textural_nets.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/textural_normals.hpp"
#include "train/stages/textural_options.hpp"

namespace sdn::train {

// One sample after the stage's crop, as plain planes of crop_width x crop_height.
struct TexturalPlanes {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;       // H*W*3
  std::vector<std::uint8_t> labels;    // H*W, category ids 0..13 (already +1 for predicted maps)
  std::vector<std::uint16_t> objects;  // H*W, 0 = none, else object id (track id + 1)
  bool objects_are_labels = false;     // predicted without a geometric map: the original's fallback
  std::map<std::int64_t, double> alpha_of;  // object id -> alpha
  std::vector<std::uint8_t> normals;   // H*W*3, a derenderer's NNNNN-normal.png; empty = zero normal channels
};

class TexturalStage : public Stage {
 public:
  TexturalStage(const TrainConfig& config, const StageContext& context);

  std::string name() const override { return "textural"; }
  data::Fields fields() const override;
  data::AugmentOptions augment() const override;
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override;
  std::vector<Phase>& phases() override { return phases_; }
  std::vector<std::string> terms() const override;
  std::shared_ptr<const std::vector<data::Item>> items(const data::ShardSet& train) override;
  void begin_step(std::int64_t step) override;
  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) override;
  void end_step() override { cached_.clear(); }
  double lr(size_t phase, std::int64_t step, std::int64_t total_steps) const override;
  EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& options, const dist::Communicator& comm) override;
  std::string predict(const data::ShardSet& set, const InferenceOptions& options, const dist::Communicator& comm) override;
  torch::Device device() const override { return device_; }
  std::string weights_name(const std::string& module) const override { return "textural_" + module; }

  // The crop of one sample: scale the width, crop (random from `rng`, else centred), flip (random from `rng`).
  // `info` locates predicted label and geometric maps (null for ground truth); `rng` null = centre crop, no flip.
  TexturalPlanes planes(const data::Sample& s, const data::SampleInfo* info, KeyedRng* rng) const;
  // The two halves of planes(): the full-frame planes of the stage's inputs, then the scale, crop and flip.
  TexturalPlanes frame_planes(const data::Sample& s, const data::SampleInfo* info) const;
  TexturalPlanes scale_and_crop(TexturalPlanes frame, KeyedRng* rng) const;
  // The frame's category ids (semantic + 1) as the stage's inputs say: the shards' classes (groundtruth), or the
  // semantic run's PNG under `semantic_dir` (empty: textural.semantic_dir).
  std::vector<std::uint8_t> frame_labels(const data::Sample& s, const data::SampleInfo* info,
                                         const std::string& semantic_dir = "") const;
  // The nets' batch of cropped samples.
  models::textural::TexturalBatch batch(const std::vector<TexturalPlanes>& planes) const;
  // One generator forward on `b` under NoGradGuard, nets in train() mode as the original's test.py, with
  // the InstanceNorm running statistics restored afterwards (they must not depend on evaluations).
  torch::Tensor reconstruct(const models::textural::TexturalBatch& b);
  // The editing path (3D-SDN's edit_vkitti.py): netE's per-instance codes of `source` (its image and instance
  // map), painted onto the instance ids of `edited`, and G's image of `edited`; one frame each, same crop, the
  // nets as in reconstruct(). `missing`: instance ids of `edited` that `source` has no code for (zeros).
  torch::Tensor generate_edited(const models::textural::TexturalBatch& source,
                                const models::textural::TexturalBatch& edited, std::vector<std::int64_t>* missing);
  const TexturalOptions& options() const { return options_; }

 private:
  TrainConfig config_;
  TexturalOptions options_;
  torch::Device device_;
  models::textural::TexturalNets nets_;
  models::textural::TexturalLossOptions loss_options_;
  std::vector<Phase> phases_;
  std::int64_t step_ = 0;
  std::unique_ptr<GroundTruthNormals> gt_normals_;      // groundtruth inputs with textural.gt_normals
  std::vector<data::SampleInfo> train_info_;             // per frame of the training split (predicted inputs)
  std::vector<models::textural::TexturalTerms> cached_;  // per micro-batch: phase G's terms for phase D
};

// The registry entry of the textural stage.
StageSpec textural_stage_spec();

}  // namespace sdn::train

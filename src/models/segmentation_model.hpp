// The common interface of the semantic-branch models (so the trainer, eval and predict treat them alike) and
// the registry that builds one by name: "resnet50dilated8_ppm_deepsup" (the original 3D-SDN model) and
// "drn_d_22" (the lighter DRN the paper names). All BatchNorm layers are SyncBatchNorm2d.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdn::models {

// What a training forward returns: log-probabilities at 1/8 of the input resolution.
struct SegOutput {
  torch::Tensor main;     // N x classes x H/8 x W/8, log_softmax over classes
  torch::Tensor deepsup;  // same from the deep-supervision head; undefined when the model has none
};

class SegmentationModelImpl : public torch::nn::Module {
 public:
  // Training forward (input N x 3 x H x W, H and W multiples of 8): log_softmax at 1/8 for the loss.
  virtual SegOutput forward_train(const torch::Tensor& images) = 0;
  // Inference forward: class probabilities (softmax over classes), bilinearly resized to out_size = {H, W}.
  virtual torch::Tensor forward_infer(const torch::Tensor& images, std::array<int64_t, 2> out_size) = 0;
  virtual std::string arch() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual bool has_deepsup() const = 0;
  // Parameters the optimiser updates: every parameter that requires a gradient (DRN's fixed bilinear
  // up-sampling kernel does not). Reducers and optimisers must use this, not parameters().
  std::vector<torch::Tensor> trainable_parameters() const;

 protected:
  SegmentationModelImpl() = default;
};
TORCH_MODULE(SegmentationModel);

struct SemanticModelOptions {
  std::string arch = "resnet50dilated8_ppm_deepsup";
  int64_t num_classes = 14;  // 3D-SDN: 14 outputs, of which 13 are supervised (Misc is ignored)
  std::uint64_t seed = 304;  // initial weights are a pure function of it (the original's manual seed)
};

// Registered architecture names, in the order `--help` lists them.
const std::vector<std::string>& semantic_model_names();

// Builds the model on the CPU (move it with ->to(device)). Throws UsageError for an unknown name.
SegmentationModel build_semantic_model(const SemanticModelOptions& options);

// Empty if `arch` can train with this per-rank batch on `world_size` ranks (SyncBatchNorm across them);
// otherwise the reason (the batch-1 BatchNorm problem of the PPM scale-1 branch) and its fix, for validate().
std::string batch_norm_batch_problem(const std::string& arch, int64_t per_rank_batch, int world_size);

}  // namespace sdn::models

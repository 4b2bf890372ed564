// `drn_d_22`: the Dilated Residual Network (fyu/drn, arch D) with the DRNSeg head, the lighter semantic model.
// DRNSeg's state_dict: base.0 ... base.8 (DRN layer0..layer8 without avgpool/fc), seg (1x1 conv to classes)
// and up (fixed bilinear ConvTranspose2d, never trained). Training uses log_softmax at 1/8 like the original
// 3D-SDN model (so the trainer treats both alike); inference upsamples with `up`, then softmax.
#pragma once

#include <torch/torch.h>

#include <array>
#include <vector>

#include "models/segmentation_model.hpp"
#include "models/sync_batchnorm.hpp"

namespace sdn::models {

struct BasicBlockOptions {
  BasicBlockOptions(int64_t inplanes, int64_t planes) : inplanes_(inplanes), planes_(planes) {}
  TORCH_ARG(int64_t, inplanes);
  TORCH_ARG(int64_t, planes);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, dilation1) = 1;  // of conv1 (padding = dilation)
  TORCH_ARG(int64_t, dilation2) = 1;  // of conv2
  TORCH_ARG(bool, downsample) = false;
  TORCH_ARG(bool, residual) = true;
};

class BasicBlockImpl : public torch::nn::Module {
 public:
  explicit BasicBlockImpl(const BasicBlockOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  bool residual;
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  SyncBatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

struct DrnOptions {
  TORCH_ARG(std::vector<int64_t>, channels) = std::vector<int64_t>{16, 32, 64, 128, 256, 512, 512, 512};
  TORCH_ARG(std::vector<int64_t>, layers) = std::vector<int64_t>{1, 1, 2, 2, 2, 2, 1, 1};  // drn_d_22
};

// DRN-D layer0..layer8 (DRNSeg's `base`: index i holds layer i), each a Sequential; output stride 8 with
// channels().back() channels. A ModuleList because LibTorch cannot nest Sequentials; the names are the same.
torch::nn::ModuleList make_drn_d_base(const DrnOptions& options);

// fyu/drn's fill_up_weights: the bilinear kernel of the fixed x8 up-sampling, one copy per class.
torch::Tensor bilinear_up_kernel(int64_t classes, int64_t kernel_size);

struct DrnSegOptions {
  explicit DrnSegOptions(int64_t num_classes) : num_classes_(num_classes) {}
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(DrnOptions, drn) = DrnOptions();
  TORCH_ARG(std::uint64_t, seed) = 304;
};

class DrnSegImpl : public SegmentationModelImpl {
 public:
  static constexpr const char* kArch = "drn_d_22";

  explicit DrnSegImpl(const DrnSegOptions& options);
  SegOutput forward_train(const torch::Tensor& images) override;
  torch::Tensor forward_infer(const torch::Tensor& images, std::array<int64_t, 2> out_size) override;
  std::string arch() const override { return kArch; }
  int64_t num_classes() const override { return options.num_classes(); }
  bool has_deepsup() const override { return false; }

  DrnSegOptions options;
  torch::nn::ModuleList base{nullptr};
  torch::nn::Conv2d seg{nullptr};
  torch::nn::ConvTranspose2d up{nullptr};

 private:
  torch::Tensor features(const torch::Tensor& images);
  std::vector<torch::nn::Sequential> stages_;
};
TORCH_MODULE(DrnSeg);

}  // namespace sdn::models

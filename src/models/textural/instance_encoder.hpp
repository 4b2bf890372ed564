// pix2pixHD's Encoder (netE of the textural branch): the GlobalGenerator layout without residual blocks
// (3 -> feat_num channels, nef filters, 4 downsamplings, tanh) followed by instance-wise average pooling, so
// every instance of the instance map gets one constant feat_num-vector. state_dict names: model.N.*.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sdn::models::textural {

// Replaces every value of `features` [B,C,H,W] by the mean over its instance: the pixels of the same image
// with the same id in `instances` [B,1,H,W] (ids are integers stored in any dtype). Differentiable in
// `features`, like the original's per-instance torch.mean.
torch::Tensor instance_mean_pool(const torch::Tensor& features, const torch::Tensor& instances);

// The editing path (3D-SDN's Encoder.generate_feat_dict): one mean feature vector per instance id of one
// image, so a moved object keeps the code encoded at its old place. ids [K] int64 ascending, means [K, C].
struct InstanceFeatureTable {
  torch::Tensor ids, means;
};
// features [1,C,H,W] (netE's model output), instances [1,1,H,W] (integer ids in any dtype).
InstanceFeatureTable instance_feature_table(const torch::Tensor& features, const torch::Tensor& instances);
// [1,C,H,W]: every pixel gets the table's vector of its id in `instances` [1,1,H,W]; ids the table lacks get
// zeros (the original prints "error inst_id" and leaves them 0). `missing` (optional): those ids.
torch::Tensor paint_instance_features(const InstanceFeatureTable& table, const torch::Tensor& instances,
                                      std::vector<int64_t>* missing = nullptr);

struct InstanceEncoderOptions {
  TORCH_ARG(int64_t, input_nc) = 3;
  TORCH_ARG(int64_t, output_nc) = 5;  // feat_num
  TORCH_ARG(int64_t, nef) = 16;
  TORCH_ARG(int64_t, n_downsampling) = 4;
  TORCH_ARG(std::uint64_t, seed) = 3;
};

class InstanceEncoderImpl : public torch::nn::Module {
 public:
  explicit InstanceEncoderImpl(const InstanceEncoderOptions& options = {});
  // The pooled features: instance_mean_pool(model(image), instances).
  torch::Tensor forward(const torch::Tensor& image, const torch::Tensor& instances);

  InstanceEncoderOptions options;
  torch::nn::Sequential model{nullptr};
};
TORCH_MODULE(InstanceEncoder);

}  // namespace sdn::models::textural

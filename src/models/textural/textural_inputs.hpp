// The textural branch's input encoding (pix2pixHD_model.encode_input and data/vkitti_dataset.py of 3D-SDN),
// as pure functions on [B,1,H,W] maps:
//   G input (48) = one-hot labels (14) + instance edges (1) + netE's pooled features (5) + one-hot pose
//                  bins (25) + normals (3);
//   D input (18) = one-hot labels (14) + instance edges (1) + the real or generated image (3).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>

namespace sdn::models::textural {

constexpr int64_t kLabelChannels = 14;   // label_nc: category ids 1..13 (+1 of the semantic prediction); 0 unused
constexpr int64_t kPoseBins = 24;        // feat_pose_num_bins: 15-degree bins of alpha
constexpr int64_t kPoseChannels = kPoseBins + 1;  // bin 0 = no object
constexpr int64_t kInstanceScale = 1000;  // object k of the geometric map becomes instance id k * 1000
constexpr int64_t kRoadLabel = 5, kCarLabel = 2, kVanLabel = 12;

// scatter_(1, labels, 1): [B,1,H,W] integer-valued labels in [0, channels) -> [B,channels,H,W] float.
torch::Tensor one_hot_map(const torch::Tensor& labels, int64_t channels);

// get_edges: 1 where a pixel differs from a 4-neighbour in the instance map, else 0; float [B,1,H,W].
torch::Tensor instance_edges(const torch::Tensor& instances);

struct LabelAndInstances {
  torch::Tensor labels;     // [B,1,H,W] int64, category ids (semantic + 1)
  torch::Tensor instances;  // [B,1,H,W] float, object k -> k * 1000, background pixels -> their label
};

// vkitti_dataset.py with precomputed maps: labels = semantic + 1; Car and Van pixels with no object become
// Road; objects (geometric map, 0 = none) get id k * 1000 and every other pixel its label as id.
LabelAndInstances compose_label_and_instances(const torch::Tensor& semantic, const torch::Tensor& objects);

// np.digitize(alpha / pi, arange(-180, 181, 15) / 180): 1..24 for alpha in [-pi, pi), 0 below -pi.
// The original yields 25 for alpha >= pi, which its 25-channel one-hot cannot hold; it is clamped to 24.
int64_t pose_bin(double alpha);

// The pose-bin map: each object id k of `objects` ([B,1,H,W], 0 = none) found in `alpha_of[b]` gets
// pose_bin(alpha); other pixels 0. int64 [B,1,H,W].
torch::Tensor pose_bins(const torch::Tensor& objects, const std::vector<std::map<int64_t, double>>& alpha_of);

// The normal map's channels: an 8-bit RGB normal image [B,3,H,W] (uint8 or 0..255 floats) normalised with
// mean 0.5 / std 0.5, plus 1/255 (the original's correction); images without objects use zeros instead.
torch::Tensor normal_channels(const torch::Tensor& rgb);

// one_hot_map(labels, 14) ++ instance_edges(instances): the part of the input both G and D see.
torch::Tensor label_and_edges(const torch::Tensor& labels, const torch::Tensor& instances);

// G's input: label_and_edges ++ pooled features ++ one_hot_map(pose, 25) ++ normals (the original's order).
torch::Tensor generator_input(const torch::Tensor& label_edges, const torch::Tensor& features,
                              const torch::Tensor& pose, const torch::Tensor& normals);

// D's input: label_and_edges ++ image.
torch::Tensor discriminator_input(const torch::Tensor& label_edges, const torch::Tensor& image);

}  // namespace sdn::models::textural

// Turns already-augmented samples into the semantic branch's network input, exactly as the original
// TrainDataset does after resizing: RGB -> BGR on 0..255 floats, the original normalisation quirk (mean on the
// 0..255 scale, std not), zero padding (after normalisation) to a common size that is a multiple of 8, and
// labels shifted by -1 (Misc and unlabelled ignored) on the 1/8 grid. Pure functions, no I/O.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sdn::models {

// One sample: H x W x 3 RGB bytes and H x W 3D-SDN class ids (0 Misc .. 13 Vegetation, 255 unlabelled).
// `classes` may be null for inference (no labels are produced then).
struct SemanticImage {
  int64_t height = 0;
  int64_t width = 0;
  const std::uint8_t* rgb = nullptr;
  const std::uint8_t* classes = nullptr;
};

struct SemanticBatchOptions {
  int64_t padding_constant = 8;  // padded sides are multiples of this
  int64_t label_stride = 8;      // labels on the 1/stride grid (8 for training, 1 for full-resolution eval)
  std::array<double, 3> mean = {0.485 * 255, 0.456 * 255, 0.406 * 255};  // per B, G, R channel (sic)
  std::array<double, 3> std = {0.229, 0.224, 0.225};                     // NOT scaled by 255 (sic)
  int64_t num_classes = 14;                                              // ids must be < this or 255
};

struct SemanticBatch {
  torch::Tensor images;  // float32 N x 3 x Hp x Wp, BGR, normalised, zero padded
  torch::Tensor labels;  // int64 N x Hp/stride x Wp/stride, id - 1 (-1 = ignored); undefined without classes
  std::vector<std::array<int64_t, 2>> sizes;  // each sample's unpadded {H, W}
};

// Label of a class id for training: Misc (0) and unlabelled (255) -> -1, others id - 1.
inline int64_t training_label(std::uint8_t id) { return (id == 0 || id == 255) ? -1 : static_cast<int64_t>(id) - 1; }

// Smallest multiple of `p` that is >= x (the original round2nearest_multiple).
inline int64_t round_up(int64_t x, int64_t p) { return ((x + p - 1) / p) * p; }

// Builds the batch. Label cell (i, j) on the 1/stride grid takes the pixel at (stride*i + stride/2,
// stride*j + stride/2), the pixel PIL's nearest resize (the original's scipy imresize) picks; cells whose
// pixel lies in the padding are -1. Throws sdn::Error naming the sample for a sampled id >= num_classes other
// than 255, empty samples, or a mix of samples with and without classes.
SemanticBatch make_semantic_batch(const std::vector<SemanticImage>& samples, const SemanticBatchOptions& options = {});

}  // namespace sdn::models

// The rasterisers' shared geometry: a batch of meshes projected to pixel coordinates, and the sparse list of
// (face, pixel) pairs whose pixel centre lies within a face's bounding box grown by a margin. Integer work
// (which pairs exist) carries no gradient; the projected corners do.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sdn::models::derender {

struct ProjectedFaces {
  torch::Tensor tri;    // [F, 3, 2] corner pixel coordinates (column, row), differentiable
  torch::Tensor depth;  // [F, 3] corner depths (-z), detached
  torch::Tensor owner;  // [F] image index
  torch::Tensor ok;     // [F] bool: within near/far, finite, non-degenerate
};

// Pixel coordinates (column, row; pixel centres at integers) [V, 2] of camera-space vertices [V, 3] (camera at
// the origin looking along -z, y up): the original's nr.perspective followed by its pixel grid.
torch::Tensor project_to_pixels(const torch::Tensor& vertices, double tan_half, int64_t image_size);

ProjectedFaces project_faces(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                             const std::vector<double>& tan_halfs, int64_t image_size, double near, double far);

struct FacePixelPairs {
  torch::Tensor face;   // [P] int64 index into the projected faces
  torch::Tensor pixel;  // [P] int64 flat index owner * S * S + row * S + column
  torch::Tensor point;  // [P, 2] the pixel centre (column, row) in the faces' dtype
};

FacePixelPairs face_pixel_pairs(const ProjectedFaces& faces, int64_t image_size, double margin);

// The edge function (b - a) x (p - a) for rows of points [P, 2].
torch::Tensor edge_function(const torch::Tensor& p, const torch::Tensor& a, const torch::Tensor& b);

}  // namespace sdn::models::derender

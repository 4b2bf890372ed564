// A differentiable silhouette renderer of triangle meshes in pure ATen ops (so it runs on CPU and CUDA and
// autograd supplies exact gradients of the smoothed image), standing in for the original's Kato neural mesh
// renderer. Method: a soft rasteriser (Liu et al., SoftRas): each face covers pixel p with probability
// D = sigmoid(±d²(p, face edges) / σ) (+ inside, − outside, d in pixels), the silhouette is
// 1 − Π_faces (1 − D), accumulated as a sum of −softplus over (face, pixel) pairs that lie within each face's
// bounding box grown by the range where D is non-negligible. Both windings render (the original's fill_back).
// Camera as the original's renderer: at the origin looking along −z, y up, x right, perspective with
// half-angle tangent tan_half (= render_size / (2 f) in the derenderer); row 0 is the top of the image.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "models/derender/face_pairs.hpp"  // project_to_pixels

namespace sdn::models::derender {

struct SilhouetteOptions {
  TORCH_ARG(int64_t, image_size) = 384;
  TORCH_ARG(double, sigma) = 1.0;  // edge sharpness, in squared pixels (smaller: sharper edges, narrower gradients)
  TORCH_ARG(double, near) = 0.1;   // faces with a vertex nearer than this (or beyond far) are dropped, as nr does
  TORCH_ARG(double, far) = 100.0;
  // (face, pixel) pairs evaluated at once; backward recomputes them chunk by chunk, so this bounds the memory
  // (about 100 bytes per pair) whatever the batch.
  TORCH_ARG(int64_t, chunk) = 1 << 20;
};

// Renders object b's vertices[b] [V_b, 3] (camera space, float or double) with faces[b] [F_b, 3] (int64) at
// tan_halfs[b]; returns silhouettes [B, 1, S, S] in [0, 1] with the vertices' dtype and device. Differentiable
// in the vertices.
torch::Tensor render_silhouettes(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                                 const std::vector<double>& tan_halfs, const SilhouetteOptions& options);

}  // namespace sdn::models::derender

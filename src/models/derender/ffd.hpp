// The derenderer's free-form deformation in LibTorch, differentiable in the coefficients (original:
// models/transforms.py FFD): a degree-3 Bernstein lattice of 4x4x4 control points over [-0.5, 0.5]^3, the raw
// 192 coefficients viewed as [3 (x,y,z), 4 (i, along x), 4 (j, along y), 4 (k, along z)], constrained by mirror
// symmetry across z = 0 and homogeneity of the j = 0, 1 layers (x, z averaged; y kept), in that order.
// data/mesh_ffd.hpp is the plain-C++ twin for `sdn synth`.
#pragma once

#include <torch/torch.h>

namespace sdn::models::derender {

// Bernstein weights of each vertex [V, 3] -> [V, grid^3], column i*grid^2 + j*grid + k (the original's B).
torch::Tensor ffd_basis(const torch::Tensor& vertices, int64_t grid = 4);

// Raw coefficients [..., 3 * grid^3] -> constrained displacements [..., 3, grid, grid, grid].
torch::Tensor constrain_ffd(const torch::Tensor& coeffs, int64_t grid = 4);

// Deformed vertices [V, 3] of a mesh with basis [V, grid^3] under raw coefficients [3 * grid^3]:
// sum over lattice points of B * (P0 + dP), P0 = (i, j, k) / (grid - 1) - 0.5.
torch::Tensor ffd_deform(const torch::Tensor& basis, const torch::Tensor& coeffs, int64_t grid = 4);

}  // namespace sdn::models::derender

// Free-form deformation of the derenderer (the original's models/transforms.py FFD): a 4x4x4 lattice of control
// points over [-0.5, 0.5]^3 with a degree-3 Bernstein basis. The network's 192 coefficients per mesh are lattice
// displacements laid out [component x,y,z][i][j][k] (i along x, j along y, k along z), then constrained:
// mirror symmetry across z = 0 (average with the k-flipped lattice whose z component is negated), and
// "homogeneity" of lattice layers j = 0 and 1 (their x and z displacements averaged, y kept).
// Plain C++ for `sdn synth`; models/derender/ffd.hpp is the differentiable LibTorch twin.
#pragma once

#include <array>

#include "data/mesh.hpp"

namespace sdn::data {

constexpr int kFfdGrid = 4;
constexpr int kFfdPoints = kFfdGrid * kFfdGrid * kFfdGrid;  // 64
constexpr int kFfdCoefficients = 3 * kFfdPoints;            // 192

// Index of component c of lattice point (i, j, k) in the 192-long layout.
constexpr int ffd_index(int c, int i, int j, int k) { return ((c * kFfdGrid + i) * kFfdGrid + j) * kFfdGrid + k; }

using FfdCoefficients = std::array<float, kFfdCoefficients>;

// The displacements the lattice actually gets: the symmetry constraint (axis z), then homogeneity (axis y,
// layers 0 and 1), in the original's order.
FfdCoefficients constrain_ffd(const FfdCoefficients& raw);

// The 64 basis weights of point v (lattice point (i, j, k) at i*16 + j*4 + k):
// B = C(3,i) (0.5+x)^i (0.5-x)^(3-i) * (same for y with j) * (same for z with k).
std::array<double, kFfdPoints> ffd_basis(const std::array<float, 3>& v);

// The deformed mesh: each vertex becomes sum_ijk B_ijk(v) (P0_ijk + dP_ijk) with P0_ijk = (i, j, k) / 3 - 0.5
// and dP = constrain_ffd(raw). Zero coefficients leave the mesh unchanged (the basis reproduces linear maps).
Mesh ffd_deform(const Mesh& mesh, const FfdCoefficients& raw);

}  // namespace sdn::data

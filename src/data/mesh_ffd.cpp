// Plain-C++ evaluation of the derenderer's constrained Bernstein FFD (original: models/transforms.py).
#include "data/mesh_ffd.hpp"

namespace sdn::data {

FfdCoefficients constrain_ffd(const FfdCoefficients& raw) {
  constexpr int G = kFfdGrid;
  FfdCoefficients d = raw;
  // Symmetry along z: dP = (dP + flip_k(dP) * [1, 1, -1]) / 2.
  FfdCoefficients s{};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < G; ++i)
      for (int j = 0; j < G; ++j)
        for (int k = 0; k < G; ++k) {
          const float mirrored = d[ffd_index(c, i, j, G - 1 - k)] * (c == 2 ? -1.0f : 1.0f);
          s[ffd_index(c, i, j, k)] = (d[ffd_index(c, i, j, k)] + mirrored) / 2;
        }
  d = s;
  // Homogeneity along y for layers j = 0 and 1: x and z take the layers' mean, y stays per layer.
  for (int c = 0; c < 3; c += 2)
    for (int i = 0; i < G; ++i)
      for (int k = 0; k < G; ++k) {
        const float mean = (d[ffd_index(c, i, 0, k)] + d[ffd_index(c, i, 1, k)]) / 2;
        d[ffd_index(c, i, 0, k)] = mean;
        d[ffd_index(c, i, 1, k)] = mean;
      }
  return d;
}

std::array<double, kFfdPoints> ffd_basis(const std::array<float, 3>& v) {
  static constexpr double kBinom[kFfdGrid] = {1, 3, 3, 1};
  double b[3][kFfdGrid];
  for (int a = 0; a < 3; ++a) {
    const double p = 0.5 + v[a], q = 0.5 - v[a];
    const double pw[kFfdGrid] = {1, p, p * p, p * p * p}, qw[kFfdGrid] = {1, q, q * q, q * q * q};
    for (int n = 0; n < kFfdGrid; ++n) b[a][n] = kBinom[n] * pw[n] * qw[kFfdGrid - 1 - n];
  }
  std::array<double, kFfdPoints> out{};
  for (int i = 0; i < kFfdGrid; ++i)
    for (int j = 0; j < kFfdGrid; ++j)
      for (int k = 0; k < kFfdGrid; ++k) out[(i * kFfdGrid + j) * kFfdGrid + k] = b[0][i] * b[1][j] * b[2][k];
  return out;
}

Mesh ffd_deform(const Mesh& mesh, const FfdCoefficients& raw) {
  const FfdCoefficients d = constrain_ffd(raw);
  const int G = kFfdGrid;
  Mesh out = mesh;
  for (auto& v : out.vertices) {
    const auto basis = ffd_basis(v);
    double acc[3] = {0, 0, 0};
    for (int i = 0; i < G; ++i)
      for (int j = 0; j < G; ++j)
        for (int k = 0; k < G; ++k) {
          const double w = basis[(i * G + j) * G + k];
          const int ijk[3] = {i, j, k};
          for (int c = 0; c < 3; ++c) acc[c] += w * (ijk[c] / double(G - 1) - 0.5 + d[ffd_index(c, i, j, k)]);
        }
    v = {static_cast<float>(acc[0]), static_cast<float>(acc[1]), static_cast<float>(acc[2])};
  }
  return out;
}

}  // namespace sdn::data

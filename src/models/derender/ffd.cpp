// Constrained Bernstein FFD as ATen ops (runs wherever its inputs live; autograd through the coefficients).
#include "models/derender/ffd.hpp"

#include <cmath>
#include <vector>

namespace sdn::models::derender {
namespace {

double binomial(int64_t n, int64_t k) {
  double r = 1;
  for (int64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

}  // namespace

torch::Tensor ffd_basis(const torch::Tensor& vertices, int64_t grid) {
  TORCH_CHECK(vertices.dim() == 2 && vertices.size(1) == 3, "ffd_basis: vertices must be [V, 3]");
  const auto opts = vertices.options();
  std::vector<double> binoms;
  for (int64_t n = 0; n < grid; ++n) binoms.push_back(binomial(grid - 1, n));
  const auto n = torch::arange(grid, opts);
  const auto c = torch::tensor(binoms, torch::kFloat64).to(opts);
  // coeff[v, axis, n] = C(g-1, n) (0.5 + x)^n (0.5 - x)^(g-1-n)
  const auto x = vertices.unsqueeze(2);
  const auto coeff = c * torch::pow(0.5 + x, n) * torch::pow(0.5 - x, (grid - 1) - n);
  const auto b = torch::einsum("vi,vj,vk->vijk", {coeff.select(1, 0), coeff.select(1, 1), coeff.select(1, 2)});
  return b.reshape({vertices.size(0), grid * grid * grid});
}

torch::Tensor constrain_ffd(const torch::Tensor& coeffs, int64_t grid) {
  auto sizes = coeffs.sizes().vec();
  TORCH_CHECK(!sizes.empty() && sizes.back() == 3 * grid * grid * grid, "constrain_ffd: last dim must be 3*grid^3");
  sizes.pop_back();
  auto shape = sizes;
  for (int64_t s : {int64_t(3), grid, grid, grid}) shape.push_back(s);
  auto dp = coeffs.reshape(shape);
  const int64_t cdim = static_cast<int64_t>(sizes.size());  // the component axis
  // Symmetry along z: average with the k-flipped lattice whose z component is negated.
  const auto sign = torch::tensor({1.0, 1.0, -1.0}, coeffs.options()).reshape({3, 1, 1, 1});
  dp = (dp + dp.flip({cdim + 3}) * sign) / 2;
  // Homogeneity along y, layers j = 0 and 1: their x and z components become the layers' mean.
  const auto layers = dp.narrow(cdim + 2, 0, 2);
  const auto mean = layers.mean(cdim + 2, /*keepdim=*/true).expand_as(layers);
  const auto is_y = torch::tensor({0.0, 1.0, 0.0}, coeffs.options()).reshape({3, 1, 1, 1});
  const auto fixed = is_y * layers + (1 - is_y) * mean;
  return torch::cat({fixed, dp.narrow(cdim + 2, 2, grid - 2)}, cdim + 2);
}

torch::Tensor ffd_deform(const torch::Tensor& basis, const torch::Tensor& coeffs, int64_t grid) {
  TORCH_CHECK(coeffs.dim() == 1, "ffd_deform: coefficients of one mesh, [3 * grid^3]");
  const auto g = torch::arange(grid, coeffs.options()) / static_cast<double>(grid - 1) - 0.5;
  const auto grids = torch::meshgrid({g, g, g}, "ij");
  const auto p0 = torch::stack({grids[0], grids[1], grids[2]}, 0);  // [3, g, g, g]
  const auto points = (p0 + constrain_ffd(coeffs, grid)).reshape({3, grid * grid * grid});
  return torch::matmul(basis.to(coeffs.dtype()), points.t());
}

}  // namespace sdn::models::derender

// Implements the reconstruction metrics (see image_metrics.hpp).
#include "models/textural/image_metrics.hpp"

#include "core/error.hpp"
#include "models/state_dict.hpp"

namespace sdn::models::textural {
namespace {

namespace F = torch::nn::functional;

void check_pair(const torch::Tensor& fake, const torch::Tensor& real, const char* what) {
  if (fake.dim() != 4 || fake.sizes() != real.sizes())
    throw Error(std::string(what) + ": images " + shape_text(fake.sizes()) + " and " + shape_text(real.sizes()) +
                " must be equal [B,C,H,W]");
}

// Metrics are accumulated in float64 so long evaluations do not depend on float32 summation order.
torch::Tensor unit_range(const torch::Tensor& x) {
  return ((x.detach().to(torch::kDouble) + 1.0) / 2.0).clamp(0.0, 1.0);
}

torch::Tensor gaussian_window(const SsimOptions& o, int64_t channels, const torch::TensorOptions& opts) {
  auto r = torch::arange(o.window, opts) - static_cast<double>(o.window - 1) / 2.0;
  auto g = torch::exp(-(r * r) / (2.0 * o.sigma * o.sigma));
  g = g / g.sum();
  return torch::outer(g, g).expand({channels, 1, o.window, o.window}).contiguous();
}

}  // namespace

torch::Tensor l1_error(const torch::Tensor& fake, const torch::Tensor& real) {
  check_pair(fake, real, "l1_error");
  return (fake.detach().to(torch::kDouble) - real.detach().to(torch::kDouble)).abs().flatten(1).mean(1);
}

torch::Tensor psnr(const torch::Tensor& fake, const torch::Tensor& real) {
  check_pair(fake, real, "psnr");
  auto mse = (unit_range(fake) - unit_range(real)).pow(2).flatten(1).mean(1);
  return 10.0 * torch::log10(1.0 / mse);
}

torch::Tensor ssim(const torch::Tensor& fake, const torch::Tensor& real, const SsimOptions& o) {
  check_pair(fake, real, "ssim");
  if (fake.size(2) < o.window || fake.size(3) < o.window)
    throw Error("ssim: images " + shape_text(fake.sizes()) + " are smaller than the " + std::to_string(o.window) +
                "-pixel window");
  auto x = unit_range(fake), y = unit_range(real);
  const int64_t c = x.size(1);
  auto w = gaussian_window(o, c, x.options());
  auto blur = [&](const torch::Tensor& t) { return F::conv2d(t, w, F::Conv2dFuncOptions().groups(c)); };
  auto mx = blur(x), my = blur(y);
  auto sxx = blur(x * x) - mx * mx, syy = blur(y * y) - my * my, sxy = blur(x * y) - mx * my;
  const double c1 = o.k1 * o.k1, c2 = o.k2 * o.k2;  // (K L)^2 with L = 1
  auto map = ((2.0 * mx * my + c1) * (2.0 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
  return map.flatten(1).mean(1);
}

}  // namespace sdn::models::textural

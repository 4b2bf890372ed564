// The derenderer's loss terms (see losses.hpp).
#include "models/derender/losses.hpp"

namespace sdn::models::derender {

LossTerms geometry_losses(const DerendererOutputs& out, const GeometryTargets& t) {
  namespace F = torch::nn::functional;
  return {{"theta_delta_loss", F::mse_loss(out.theta_deltas, t.theta_deltas)},
          {"translation2d_loss", F::mse_loss(out.translation2ds, t.translation2ds)},
          {"scale_loss", F::mse_loss(out.log_scales, t.log_scales)},
          {"depth_loss", F::mse_loss(out.log_depths, t.log_depths)}};
}

torch::Tensor pad_to_render(const torch::Tensor& crop, int64_t s, bool replicate) {
  namespace F = torch::nn::functional;
  const int64_t ph = (s - crop.size(2)) / 2, pw = (s - crop.size(3)) / 2;
  if (ph == 0 && pw == 0) return crop;
  auto o = F::PadFuncOptions({pw, pw, ph, ph});
  if (replicate) o.mode(torch::kReplicate);
  return F::pad(crop, o);
}

torch::Tensor mask_losses(const torch::Tensor& rendered, const torch::Tensor& masks, const torch::Tensor& ignores,
                          double mask_weight) {
  const int64_t s = rendered.size(3);
  const auto m = pad_to_render(masks.to(rendered.dtype()), s, false);
  const auto ig = pad_to_render(ignores.to(rendered.dtype()), s, true);
  const auto per_pixel = (1 - ig) * (rendered - m).pow(2);
  return mask_weight * per_pixel.mean({1, 2, 3});
}

LossTerms reprojection_losses(const torch::Tensor& per_object, const torch::Tensor& log_probs,
                              const torch::Tensor& ffd_coeffs, double ffd_coeff_reg) {
  return {{"class_reward", (log_probs * per_object.detach()).mean()},
          {"mask_loss", per_object.mean()},
          {"ffd_coeff_reg", ffd_coeff_reg * ffd_coeffs.pow(2).mean()}};
}

torch::Tensor total(const LossTerms& terms) {
  torch::Tensor sum;
  for (const auto& [name, t] : terms) sum = sum.defined() ? sum + t : t;
  return sum;
}

}  // namespace sdn::models::derender

// Reconstruction metrics of the textural branch's eval, per image of a [B,3,H,W] batch in the generator's
// [-1, 1] range: the mean L1 error of the original's test.py (torch.nn.L1Loss(real, generated), in [-1, 1]
// units), and PSNR and SSIM on the images mapped to [0, 1] ((x + 1) / 2, clamped; not quantised to 8 bits).
#pragma once

#include <torch/torch.h>

namespace sdn::models::textural {

// Standard SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range L = 1,
// 'valid' filtering (no padding), per channel, averaged over channels and positions.
struct SsimOptions {
  int64_t window = 11;
  double sigma = 1.5;
  double k1 = 0.01, k2 = 0.03;
};

// [B] float64: mean |fake - real| per image.
torch::Tensor l1_error(const torch::Tensor& fake, const torch::Tensor& real);

// [B] float64: 10 log10(1 / MSE) per image on [0, 1] (infinite for identical images).
torch::Tensor psnr(const torch::Tensor& fake, const torch::Tensor& real);

// [B] float64. Images must be at least `window` pixels in both directions.
torch::Tensor ssim(const torch::Tensor& fake, const torch::Tensor& real, const SsimOptions& options = {});

}  // namespace sdn::models::textural

// Implements crop_and_resize (see crop_and_resize.hpp) as four gathers from the image in [B*H*W, C] layout
// plus a bilinear blend; the sample positions are computed without gradient, as the original's boxes get none.
#include "models/maskrcnn/crop_and_resize.hpp"

namespace sdn::models::maskrcnn {
namespace {

struct Axis {
  torch::Tensor lo, hi, lerp, valid;  // [N, crop] each: floor/ceil index, fraction, inside [0, size - 1]
};

// Sample positions along one axis, float32 as the original kernel computes them.
Axis sample_axis(const torch::Tensor& a1, const torch::Tensor& a2, int64_t size, int64_t crop) {
  const double span = static_cast<double>(size - 1);
  torch::Tensor pos;
  if (crop > 1) {
    auto scale = (a2 - a1) * span / static_cast<double>(crop - 1);  // [N]
    auto steps = torch::arange(crop, a1.options());
    pos = (a1 * span).unsqueeze(1) + steps.unsqueeze(0) * scale.unsqueeze(1);
  } else {
    pos = (0.5 * (a1 + a2) * span).unsqueeze(1);
  }
  Axis ax;
  ax.valid = (pos >= 0) & (pos <= span);
  // Invalid samples (also NaN positions from degenerate boxes) read pixel 0 and are overwritten afterwards.
  auto safe = torch::where(ax.valid, pos, torch::zeros_like(pos));
  auto lo = safe.floor();
  ax.lerp = safe - lo;
  ax.lo = lo.to(torch::kLong);
  ax.hi = safe.ceil().to(torch::kLong);
  return ax;
}

}  // namespace

torch::Tensor crop_and_resize(const torch::Tensor& image, const torch::Tensor& boxes, const torch::Tensor& box_ind,
                              int64_t crop_h, int64_t crop_w, double extrapolation_value) {
  TORCH_CHECK(image.dim() == 4, "crop_and_resize: image must be [B, C, H, W]");
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "crop_and_resize: boxes must be [N, 4]");
  TORCH_CHECK(box_ind.dim() == 1 && box_ind.size(0) == boxes.size(0), "crop_and_resize: box_ind must be [N]");
  TORCH_CHECK(crop_h >= 1 && crop_w >= 1, "crop_and_resize: crop size must be positive");
  const int64_t n = boxes.size(0), c = image.size(1), h = image.size(2), w = image.size(3);
  if (n == 0) return torch::zeros({0, c, crop_h, crop_w}, image.options());

  torch::Tensor index[4], weight[4], valid;
  {
    torch::NoGradGuard no_grad;
    auto b = boxes.detach().to(image.device(), torch::kFloat);
    auto ind = box_ind.to(image.device(), torch::kLong);
    TORCH_CHECK(ind.min().item<int64_t>() >= 0 && ind.max().item<int64_t>() < image.size(0),
                "crop_and_resize: box_ind out of range [0, ", image.size(0), ")");
    auto ys = sample_axis(b.select(1, 0), b.select(1, 2), h, crop_h);
    auto xs = sample_axis(b.select(1, 1), b.select(1, 3), w, crop_w);
    auto base = (ind * (h * w)).view({n, 1, 1});
    auto row = [&](const torch::Tensor& y) { return y.unsqueeze(2) * w; };  // [N, ch, 1]
    auto col = [&](const torch::Tensor& x) { return x.unsqueeze(1); };      // [N, 1, cw]
    auto ly = ys.lerp.unsqueeze(2), lx = xs.lerp.unsqueeze(1);
    index[0] = base + row(ys.lo) + col(xs.lo);  // top-left
    index[1] = base + row(ys.lo) + col(xs.hi);  // top-right
    index[2] = base + row(ys.hi) + col(xs.lo);  // bottom-left
    index[3] = base + row(ys.hi) + col(xs.hi);  // bottom-right
    weight[0] = (1 - ly) * (1 - lx);
    weight[1] = (1 - ly) * lx;
    weight[2] = ly * (1 - lx);
    weight[3] = ly * lx;
    valid = ys.valid.unsqueeze(2) & xs.valid.unsqueeze(1);  // [N, ch, cw]
  }
  auto flat = image.permute({0, 2, 3, 1}).reshape({-1, c});  // [B*H*W, C]
  torch::Tensor out;
  for (int k = 0; k < 4; ++k) {
    auto v = flat.index_select(0, index[k].reshape({-1})).view({n, crop_h, crop_w, c});
    auto term = v * weight[k].unsqueeze(3).to(v.dtype());
    out = k == 0 ? term : out + term;
  }
  out = torch::where(valid.unsqueeze(3), out, torch::full({}, extrapolation_value, out.options()));
  return out.permute({0, 3, 1, 2}).contiguous();
}

}  // namespace sdn::models::maskrcnn

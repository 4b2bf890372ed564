// Implements the input molding (see image_prep.hpp).
#include "models/maskrcnn/image_prep.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace sdn::models::maskrcnn {
namespace {

// scipy.ndimage.zoom(order=0) source index of output i: the grid maps the corners ((in - 1) / (out - 1)).
torch::Tensor zoom_index(int64_t in, int64_t out) {
  auto i = torch::arange(out, torch::kDouble);
  const double step = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  return (i * step).round().clamp(0, static_cast<double>(in - 1)).to(torch::kLong);
}

}  // namespace

ResizePlan plan_resize(int64_t h, int64_t w, const MaskRcnnOptions& o) {
  if (h <= 0 || w <= 0) throw Error("plan_resize: empty frame " + std::to_string(w) + "x" + std::to_string(h));
  ResizePlan p;
  double scale = std::max(1.0, static_cast<double>(o.image_min_dim) / static_cast<double>(std::min(h, w)));
  const double longest = static_cast<double>(std::max(h, w));
  if (std::nearbyint(longest * scale) > static_cast<double>(o.image_max_dim))
    scale = static_cast<double>(o.image_max_dim) / longest;
  p.scale = scale;
  // Python's round() (half to even) = nearbyint in the default rounding mode.
  p.resized_height = static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * scale));
  p.resized_width = static_cast<int64_t>(std::nearbyint(static_cast<double>(w) * scale));
  p.top = (o.image_max_dim - p.resized_height) / 2;
  p.left = (o.image_max_dim - p.resized_width) / 2;
  p.window.window = {p.top, p.left, p.top + p.resized_height, p.left + p.resized_width};
  p.window.frame_height = h;
  p.window.frame_width = w;
  return p;
}

torch::Tensor mold_image(const torch::Tensor& rgb, const ResizePlan& p, const MaskRcnnOptions& o) {
  TORCH_CHECK(rgb.dim() == 3 && rgb.size(2) == 3, "mold_image: rgb must be [H, W, 3]");
  auto x = rgb.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat);
  if (p.resized_height != rgb.size(0) || p.resized_width != rgb.size(1)) {
    x = torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{p.resized_height, p.resized_width})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false)
                                                  .antialias(p.scale < 1.0));
    x = x.round().clamp(0, 255);  // imresize returns uint8
  }
  auto mean = torch::tensor({o.mean_pixel[0], o.mean_pixel[1], o.mean_pixel[2]}, torch::kFloat).view({1, 3, 1, 1});
  const int64_t s = o.image_size();
  auto out = torch::zeros({1, 3, s, s}, torch::kFloat);
  out.slice(2, p.top, p.top + p.resized_height).slice(3, p.left, p.left + p.resized_width).copy_(x);
  return (out - mean).squeeze(0);  // the padding becomes -mean, as mold_image after np.pad
}

torch::Tensor mold_masks(const torch::Tensor& masks, const ResizePlan& p, const MaskRcnnOptions& o) {
  const int64_t g = masks.size(0), s = o.image_size();
  auto rows = zoom_index(masks.size(1), p.resized_height), cols = zoom_index(masks.size(2), p.resized_width);
  auto zoomed = masks.to(torch::kUInt8).index_select(1, rows).index_select(2, cols);
  auto out = torch::zeros({g, s, s}, torch::kUInt8);
  out.slice(1, p.top, p.top + p.resized_height).slice(2, p.left, p.left + p.resized_width).copy_(zoomed);
  return out;
}

}  // namespace sdn::models::maskrcnn

// Hard depth and normal maps of posed meshes for the derenderer's test outputs (the original renders them with
// Kato's renderer, RenderType.Depth / RenderType.Normal): per pixel the nearest face (perspective-correct depth
// at the pixel centre), its depth (-z of the camera-space vertices, `far` where empty) and its unit normal in
// camera space turned towards the camera (0 where empty). Like nr's default, anti-aliasing renders at twice the
// size and averages 2x2 blocks (edges blend with the background). Not differentiable.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sdn::models::derender {

struct RasterMapsOptions {
  TORCH_ARG(int64_t, image_size) = 384;
  TORCH_ARG(double, near) = 0.1;
  TORCH_ARG(double, far) = 100.0;
  TORCH_ARG(bool, anti_aliasing) = true;
};

struct RasterMaps {
  torch::Tensor depth;   // [B, 1, S, S]
  torch::Tensor normal;  // [B, 3, S, S]
};

// Same inputs as render_silhouettes.
RasterMaps render_depth_normal(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                               const std::vector<double>& tan_halfs, const RasterMapsOptions& options);

}  // namespace sdn::models::derender

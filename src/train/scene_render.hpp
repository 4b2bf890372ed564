// Re-renders a frame's geometric maps from its (edited) derendered objects the way the derenderer's
// `sdn predict` draws them: each object's mesh deformed by its FFD coefficients, posed, rendered in the
// test-time view (the object fills a render_size² render) and pasted back far to near at its projected
// centre; objects the derenderer did not cover keep their ground-truth masks, painted first. With no edit the
// maps equal the predicted NNNNN.png, -normal.png and -depth.png.
#pragma once

#include <cstdint>

#include "data/image_io.hpp"
#include "data/sample.hpp"
#include "models/derender/reproject.hpp"
#include "train/scene_edit.hpp"

namespace sdn::train {

struct SceneRenderOptions {
  std::int64_t render_size = 384;  // derender.render_size of the run that predicted the objects
  double sigma = 1.0;              // derender.sigma
};

struct FrameMaps {
  data::img::Image8 instance;  // object id, 0 = none
  data::img::Image8 normal;    // RGB, (n / 2 + 0.5) * 255, 127 where no object
  data::img::Image16 depth;    // min(depth / 100, 1) * 65535, 65535 where no object
};

// Maps of a W x H frame with nothing drawn (instance 0, normal 127, depth 65535).
FrameMaps blank_frame_maps(int width, int height);

// Pastes object `k` of a batch of S x S renders (masks [B,1,S,S], depths [B,1,S,S], normals [B,3,S,S], on the CPU,
// contiguous) into `maps`: the render resized to S / zoom px by nearest neighbour (the original resizes with PIL),
// centred at pixel (cv, cu), drawn where its silhouette is >= 0.5 with instance value `id`. Shared by the
// derenderer's `sdn predict` and `sdn edit`, so an unedited frame re-renders bit-identically.
void paste_render(FrameMaps& maps, const torch::Tensor& masks, const torch::Tensor& depths, const torch::Tensor& normals,
                  std::int64_t k, double zoom, double cv, double cu, int id);

// `frame` holds the source frame's instance map and objects (for the objects not in `scene`). Sets each drawn
// object's zoom. Deleted objects are not drawn. A mesh index outside the bank is a UsageError.
FrameMaps render_scene(Scene& scene, const models::derender::MeshBank& bank, const SceneRenderOptions& options,
                       const data::Sample& frame);

}  // namespace sdn::train

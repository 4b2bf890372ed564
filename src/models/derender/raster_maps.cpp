// Z-buffered depth and normal maps over the sparse (face, pixel) pairs (see raster_maps.hpp).
#include "models/derender/raster_maps.hpp"

#include "models/derender/face_pairs.hpp"

namespace sdn::models::derender {

RasterMaps render_depth_normal(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                               const std::vector<double>& tan_halfs, const RasterMapsOptions& o) {
  torch::NoGradGuard no_grad;
  const int64_t batch = static_cast<int64_t>(vertices.size());
  const int64_t s = o.anti_aliasing() ? 2 * o.image_size() : o.image_size();
  std::vector<torch::Tensor> detached, normals;
  for (size_t b = 0; b < vertices.size(); ++b) {
    const auto v = vertices[b].detach();
    const auto f = faces[b].to(torch::kLong);
    const auto v0 = v.index_select(0, f.select(1, 0)), v1 = v.index_select(0, f.select(1, 1)),
               v2 = v.index_select(0, f.select(1, 2));
    auto n = torch::cross(v1 - v0, v2 - v0, 1);
    // Turned towards the camera at the origin: n . v0 < 0.
    n = n * torch::where((n * v0).sum(1, true) > 0, -torch::ones({1}, v.options()), torch::ones({1}, v.options()));
    normals.push_back(n / n.norm(2, {1}, true).clamp_min(1e-12));
    detached.push_back(v);
  }
  const auto proj = project_faces(detached, faces, tan_halfs, s, o.near(), o.far());
  const auto pairs = face_pixel_pairs(proj, s, 0.0);
  const auto opts = vertices[0].options();
  auto depth = torch::full({batch * s * s}, o.far(), opts);
  auto normal = torch::zeros({batch * s * s, 3}, opts);
  if (pairs.face.numel() > 0) {
    const auto t = proj.tri.index_select(0, pairs.face);
    const auto& p = pairs.point;
    const auto a = t.select(1, 0), b = t.select(1, 1), c = t.select(1, 2);
    const auto area2 = edge_function(c, a, b);
    // Screen-space barycentrics of the pixel centre; inside with a little slack, so that centres on an edge
    // shared by two faces are not lost to rounding in both.
    const auto w0 = edge_function(p, b, c) / area2, w1 = edge_function(p, c, a) / area2,
               w2 = edge_function(p, a, b) / area2;
    const double slack = -1e-5;
    const auto inside = (w0 >= slack) & (w1 >= slack) & (w2 >= slack);
    const auto z = proj.depth.index_select(0, pairs.face);
    const auto zp = 1 / (w0 / z.select(1, 0) + w1 / z.select(1, 1) + w2 / z.select(1, 2));  // perspective-correct
    const auto keep = torch::nonzero(inside & (zp > o.near()) & (zp < o.far())).squeeze(1);
    const auto pix = pairs.pixel.index_select(0, keep), zk = zp.index_select(0, keep);
    depth = depth.scatter_reduce(0, pix, zk, "amin", /*include_self=*/true);
    // The nearest face per pixel (the lowest face index among equal depths), then its normal.
    const auto winner = torch::nonzero(zk == depth.index_select(0, pix)).squeeze(1);
    const auto face = pairs.face.index_select(0, keep).index_select(0, winner);
    const auto wpix = pix.index_select(0, winner);
    auto best = torch::full({batch * s * s}, proj.owner.size(0), face.options());
    best = best.scatter_reduce(0, wpix, face, "amin", /*include_self=*/true);
    const auto hit = torch::nonzero(best < proj.owner.size(0)).squeeze(1);
    normal.index_copy_(0, hit, torch::cat(normals, 0).index_select(0, best.index_select(0, hit)));
  }
  RasterMaps m;
  m.depth = depth.reshape({batch, 1, s, s});
  m.normal = normal.reshape({batch, s, s, 3}).permute({0, 3, 1, 2}).contiguous();
  if (o.anti_aliasing()) {
    m.depth = torch::avg_pool2d(m.depth, 2);
    m.normal = torch::avg_pool2d(m.normal, 2);
  }
  return m;
}

}  // namespace sdn::models::derender

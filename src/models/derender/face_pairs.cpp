// Projection of mesh batches and sparse (face, pixel) pair generation (see face_pairs.hpp).
#include "models/derender/face_pairs.hpp"

namespace sdn::models::derender {

torch::Tensor project_to_pixels(const torch::Tensor& v, double tan_half, int64_t s) {
  // Clamped so that vertices behind the camera (whose faces are dropped) cannot put NaN into the gradients.
  const auto depth = (-v.select(1, 2)).clamp_min(1e-6);
  const auto xn = v.select(1, 0) / (depth * tan_half), yn = v.select(1, 1) / (depth * tan_half);
  const double half = static_cast<double>(s) / 2.0;
  return torch::stack({(xn + 1) * half - 0.5, (1 - yn) * half - 0.5}, 1);
}

torch::Tensor edge_function(const torch::Tensor& p, const torch::Tensor& a, const torch::Tensor& b) {
  const auto e = b - a, w = p - a;
  return e.select(1, 0) * w.select(1, 1) - e.select(1, 1) * w.select(1, 0);
}

ProjectedFaces project_faces(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                             const std::vector<double>& tan_halfs, int64_t s, double near, double far) {
  TORCH_CHECK(!vertices.empty() && vertices.size() == faces.size() && vertices.size() == tan_halfs.size(),
              "render: one faces tensor and one tan_half per object");
  const auto iopts = vertices[0].options().dtype(torch::kLong);
  std::vector<torch::Tensor> tris, depths, owners;
  for (size_t b = 0; b < vertices.size(); ++b) {
    TORCH_CHECK(vertices[b].dim() == 2 && vertices[b].size(1) == 3, "render: vertices must be [V, 3]");
    TORCH_CHECK(faces[b].dim() == 2 && faces[b].size(1) == 3, "render: faces must be [F, 3]");
    const auto f = faces[b].to(iopts).reshape({-1});
    tris.push_back(project_to_pixels(vertices[b], tan_halfs[b], s).index_select(0, f).reshape({-1, 3, 2}));
    depths.push_back((-vertices[b].select(1, 2)).detach().index_select(0, f).reshape({-1, 3}));
    owners.push_back(torch::full({faces[b].size(0)}, static_cast<int64_t>(b), iopts));
  }
  ProjectedFaces p;
  p.tri = torch::cat(tris, 0);
  p.depth = torch::cat(depths, 0);
  p.owner = torch::cat(owners, 0);
  torch::NoGradGuard no_grad;
  const auto t = p.tri.detach();
  const auto a = t.select(1, 0), b = t.select(1, 1), c = t.select(1, 2);
  p.ok = ((p.depth > near) & (p.depth < far)).all(1) & torch::isfinite(t).all(2).all(1) &
         (edge_function(c, a, b).abs() > 1e-9);
  return p;
}

FacePixelPairs face_pixel_pairs(const ProjectedFaces& faces, int64_t s, double margin) {
  torch::NoGradGuard no_grad;
  const auto iopts = faces.owner.options();
  const auto t = faces.tri.detach();
  const auto lo = std::get<0>(t.min(1)) - margin, hi = std::get<0>(t.max(1)) + margin;
  const auto x0 = torch::ceil(lo.select(1, 0)).clamp(0, s - 1), y0 = torch::ceil(lo.select(1, 1)).clamp(0, s - 1);
  const auto x1 = torch::floor(hi.select(1, 0)).clamp(-1, s - 1), y1 = torch::floor(hi.select(1, 1)).clamp(-1, s - 1);
  const auto w = (x1 - x0 + 1).clamp_min(0), h = (y1 - y0 + 1).clamp_min(0);
  const auto on_screen = (lo.select(1, 0) <= s - 1) & (lo.select(1, 1) <= s - 1) & (hi.select(1, 0) >= 0) &
                         (hi.select(1, 1) >= 0);
  const auto count = torch::where(faces.ok & on_screen, w * h, torch::zeros_like(w)).to(torch::kLong);
  const int64_t pairs = count.sum().item<int64_t>();
  FacePixelPairs out;
  const auto ids = torch::arange(count.size(0), iopts);
  out.face = torch::repeat_interleave(ids, count, /*dim=*/0, /*output_size=*/pairs);
  const auto start = torch::cumsum(count, 0) - count;
  const auto local = torch::arange(pairs, iopts) - start.index_select(0, out.face);
  const auto wl = w.to(torch::kLong).index_select(0, out.face);
  const auto px = x0.to(torch::kLong).index_select(0, out.face) + local % wl;
  const auto py = y0.to(torch::kLong).index_select(0, out.face) + local.div(wl, "floor");
  out.pixel = faces.owner.index_select(0, out.face) * (s * s) + py * s + px;
  out.point = torch::stack({px, py}, 1).to(faces.tri.dtype());
  return out;
}

}  // namespace sdn::models::derender

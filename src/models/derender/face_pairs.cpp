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
  // Two levels of runs, so that no per-pair division is needed: each face's box rows, then each row's pixels.
  const auto live = faces.ok & on_screen;
  const auto rows = torch::where(live, h, torch::zeros_like(h)).to(torch::kLong);
  const auto row_face = torch::repeat_interleave(torch::arange(rows.size(0), iopts), rows, 0, rows.sum().item<int64_t>());
  const auto row_start = torch::cumsum(rows, 0) - rows;
  const auto row_y = y0.to(torch::kLong).index_select(0, row_face) +
                     (torch::arange(row_face.size(0), iopts) - row_start.index_select(0, row_face));
  const auto cols = w.to(torch::kLong).index_select(0, row_face);
  const int64_t pairs = cols.sum().item<int64_t>();
  const auto item = torch::repeat_interleave(torch::arange(cols.size(0), iopts), cols, 0, pairs);
  const auto col_start = torch::cumsum(cols, 0) - cols;
  // Per row: px = x0 + (pair index - first pair of the row); pixel = row offset + px.
  const auto x_base = x0.to(torch::kLong).index_select(0, row_face) - col_start;
  const auto px = x_base.index_select(0, item) + torch::arange(pairs, iopts);
  const auto row_offset = faces.owner.index_select(0, row_face) * (s * s) + row_y * s;
  FacePixelPairs out;
  out.face = row_face.index_select(0, item);
  out.pixel = row_offset.index_select(0, item) + px;
  out.point = torch::stack({px, row_y.index_select(0, item)}, 1).to(faces.tri.dtype());
  return out;
}

}  // namespace sdn::models::derender

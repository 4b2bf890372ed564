// Soft silhouette rasterisation over sparse (face, pixel) pairs (see silhouette.hpp). Integer work (which pairs
// exist) is done without gradients; the coverage of each pair is a differentiable function of its face's
// projected corners, and index_add folds the pairs into pixels.
#include "models/derender/silhouette.hpp"

#include <cmath>

namespace sdn::models::derender {
namespace {

// softplus(x) > this contributes less than 1e-6 to log(1 - S): the margin of a face's box.
constexpr double kNegligible = 14.0;

// Squared distance from points p [P, 2] to segments a->b [P, 2] each.
torch::Tensor segment_distance2(const torch::Tensor& p, const torch::Tensor& a, const torch::Tensor& b) {
  const auto e = b - a, w = p - a;
  const auto len2 = (e * e).sum(1).clamp_min(1e-12);
  const auto t = ((w * e).sum(1) / len2).clamp(0, 1).unsqueeze(1);
  const auto d = w - t * e;
  return (d * d).sum(1);
}

torch::Tensor edge_function(const torch::Tensor& p, const torch::Tensor& a, const torch::Tensor& b) {
  const auto e = b - a, w = p - a;
  return e.select(1, 0) * w.select(1, 1) - e.select(1, 1) * w.select(1, 0);
}

}  // namespace

torch::Tensor project_to_pixels(const torch::Tensor& v, double tan_half, int64_t s) {
  // Clamped so that vertices behind the camera (whose faces are dropped) cannot put NaN into the gradients.
  const auto depth = (-v.select(1, 2)).clamp_min(1e-6);
  const auto xn = v.select(1, 0) / (depth * tan_half), yn = v.select(1, 1) / (depth * tan_half);
  const double half = static_cast<double>(s) / 2.0;
  return torch::stack({(xn + 1) * half - 0.5, (1 - yn) * half - 0.5}, 1);
}

torch::Tensor render_silhouettes(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                                 const std::vector<double>& tan_halfs, const SilhouetteOptions& o) {
  TORCH_CHECK(!vertices.empty() && vertices.size() == faces.size() && vertices.size() == tan_halfs.size(),
              "render_silhouettes: one faces tensor and one tan_half per object");
  const int64_t batch = static_cast<int64_t>(vertices.size()), s = o.image_size();
  const auto fopts = vertices[0].options();
  const auto iopts = fopts.dtype(torch::kLong);

  // Every object's faces as projected triangles [F, 3, 2], with the image each belongs to.
  std::vector<torch::Tensor> tris, owners, usable;
  for (int64_t b = 0; b < batch; ++b) {
    TORCH_CHECK(vertices[b].dim() == 2 && vertices[b].size(1) == 3, "render_silhouettes: vertices must be [V, 3]");
    TORCH_CHECK(faces[b].dim() == 2 && faces[b].size(1) == 3, "render_silhouettes: faces must be [F, 3]");
    const auto f = faces[b].to(iopts).reshape({-1});
    const auto px = project_to_pixels(vertices[b], tan_halfs[b], s).index_select(0, f).reshape({-1, 3, 2});
    const auto depth = (-vertices[b].select(1, 2)).detach().index_select(0, f).reshape({-1, 3});
    usable.push_back(((depth > o.near()) & (depth < o.far())).all(1));
    tris.push_back(px);
    owners.push_back(torch::full({px.size(0)}, b, iopts));
  }
  auto tri = torch::cat(tris, 0);
  auto owner = torch::cat(owners, 0);
  auto ok = torch::cat(usable, 0);

  // Pairs: each face's pixel box, grown by the distance beyond which its coverage is negligible.
  const double margin = std::sqrt(kNegligible * o.sigma());
  torch::Tensor x0, y0, w, h, count;
  {
    torch::NoGradGuard no_grad;
    const auto t = tri.detach();
    const auto lo = std::get<0>(t.min(1)), hi = std::get<0>(t.max(1));
    const auto a = t.select(1, 0), b = t.select(1, 1), c = t.select(1, 2);
    const auto area2 = (b - a).select(1, 0) * (c - a).select(1, 1) - (b - a).select(1, 1) * (c - a).select(1, 0);
    ok = ok & (area2.abs() > 1e-9) & torch::isfinite(t).all(2).all(1);
    x0 = torch::ceil(lo.select(1, 0) - margin).clamp(0, s - 1);
    y0 = torch::ceil(lo.select(1, 1) - margin).clamp(0, s - 1);
    const auto x1 = torch::floor(hi.select(1, 0) + margin).clamp(-1, s - 1);
    const auto y1 = torch::floor(hi.select(1, 1) + margin).clamp(-1, s - 1);
    w = (x1 - x0 + 1).clamp_min(0);
    h = (y1 - y0 + 1).clamp_min(0);
    ok = ok & (lo.select(1, 0) - margin <= s - 1) & (lo.select(1, 1) - margin <= s - 1) &
         (hi.select(1, 0) + margin >= 0) & (hi.select(1, 1) + margin >= 0);
    count = torch::where(ok, w * h, torch::zeros_like(w)).to(torch::kLong);
  }
  auto acc = torch::zeros({batch * s * s}, fopts);
  const int64_t pairs = count.sum().item<int64_t>();
  if (pairs > 0) {
    torch::Tensor face, px, py, pixel;
    {
      torch::NoGradGuard no_grad;
      const auto ids = torch::arange(count.size(0), iopts);
      face = torch::repeat_interleave(ids, count, /*dim=*/0, /*output_size=*/pairs);
      const auto start = torch::cumsum(count, 0) - count;
      const auto local = torch::arange(pairs, iopts) - start.index_select(0, face);
      const auto wl = w.to(torch::kLong).index_select(0, face);
      px = x0.to(torch::kLong).index_select(0, face) + local % wl;
      py = y0.to(torch::kLong).index_select(0, face) + local.div(wl, "floor");
      pixel = owner.index_select(0, face) * (s * s) + py * s + px;
    }
    const auto t = tri.index_select(0, face);  // [P, 3, 2], differentiable
    const auto p = torch::stack({px.to(fopts.dtype()), py.to(fopts.dtype())}, 1);
    const auto a = t.select(1, 0), b = t.select(1, 1), c = t.select(1, 2);
    const auto area2 = edge_function(c, a, b);
    const auto e0 = edge_function(p, a, b), e1 = edge_function(p, b, c), e2 = edge_function(p, c, a);
    const auto inside = ((e0 * area2 >= 0) & (e1 * area2 >= 0) & (e2 * area2 >= 0)).detach();
    const auto d2 = torch::min(torch::min(segment_distance2(p, a, b), segment_distance2(p, b, c)),
                               segment_distance2(p, c, a));
    const auto x = torch::where(inside, d2, -d2) / o.sigma();
    acc = acc.index_add(0, pixel, -torch::softplus(x));  // log(1 - D) = -softplus(x)
  }
  return (1 - torch::exp(acc)).reshape({batch, 1, s, s});
}

}  // namespace sdn::models::derender

// Soft silhouette rasterisation over sparse (face, pixel) pairs (see silhouette.hpp). Integer work (which pairs
// exist) is done without gradients; the coverage of each pair is a differentiable function of its face's
// projected corners, and index_add folds the pairs into pixels.
#include "models/derender/silhouette.hpp"

#include <cmath>

#include "models/derender/face_pairs.hpp"

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

}  // namespace

torch::Tensor render_silhouettes(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                                 const std::vector<double>& tan_halfs, const SilhouetteOptions& o) {
  const int64_t batch = static_cast<int64_t>(vertices.size()), s = o.image_size();
  const auto proj = project_faces(vertices, faces, tan_halfs, s, o.near(), o.far());
  const auto pairs = face_pixel_pairs(proj, s, std::sqrt(kNegligible * o.sigma()));
  auto acc = torch::zeros({batch * s * s}, vertices[0].options());
  if (pairs.face.numel() > 0) {
    const auto t = proj.tri.index_select(0, pairs.face);  // [P, 3, 2], differentiable
    const auto& p = pairs.point;
    const auto a = t.select(1, 0), b = t.select(1, 1), c = t.select(1, 2);
    const auto area2 = edge_function(c, a, b);
    const auto e0 = edge_function(p, a, b), e1 = edge_function(p, b, c), e2 = edge_function(p, c, a);
    const auto inside = ((e0 * area2 >= 0) & (e1 * area2 >= 0) & (e2 * area2 >= 0)).detach();
    const auto d2 = torch::min(torch::min(segment_distance2(p, a, b), segment_distance2(p, b, c)),
                               segment_distance2(p, c, a));
    const auto x = torch::where(inside, d2, -d2) / o.sigma();
    acc = acc.index_add(0, pairs.pixel, -torch::softplus(x));  // log(1 - D) = -softplus(x)
  }
  return (1 - torch::exp(acc)).reshape({batch, 1, s, s});
}

}  // namespace sdn::models::derender

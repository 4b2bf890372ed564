// Soft silhouette rasterisation over sparse (face, pixel) pairs (see silhouette.hpp). Integer work (which pairs
// exist) carries no gradient; each pair's log(1 - coverage) is a function of its face's projected corners,
// summed into pixels. The pair terms are evaluated in chunks and recomputed in backward (a hand-made gradient
// checkpoint), so memory stays bounded by the chunk however many pairs a batch has.
#include "models/derender/silhouette.hpp"

#include <algorithm>
#include <cmath>

#include "models/derender/face_pairs.hpp"

namespace sdn::models::derender {
namespace {

// softplus(x) > this contributes less than 1e-6 to log(1 - S): the margin of a face's box.
constexpr double kNegligible = 14.0;
// log(1 - D) for pairs: corners [6, P] (ax, ay, bx, by, cx, cy rows), pixel centres px, py [P]; all contiguous
// 1-D rows, which ATen's elementwise kernels run much faster than strided [P, 2] views.
torch::Tensor pair_log_uncovered(const torch::Tensor& c, const torch::Tensor& px, const torch::Tensor& py,
                                 double sigma) {
  const auto ax = c[0], ay = c[1], bx = c[2], by = c[3], cx = c[4], cy = c[5];
  auto edge = [&](const torch::Tensor& x0, const torch::Tensor& y0, const torch::Tensor& x1, const torch::Tensor& y1) {
    return (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0);
  };
  auto dist2 = [&](const torch::Tensor& x0, const torch::Tensor& y0, const torch::Tensor& x1, const torch::Tensor& y1) {
    const auto ex = x1 - x0, ey = y1 - y0, wx = px - x0, wy = py - y0;
    const auto t = ((wx * ex + wy * ey) / (ex * ex + ey * ey).clamp_min(1e-12)).clamp(0, 1);
    const auto dx = wx - t * ex, dy = wy - t * ey;
    return dx * dx + dy * dy;
  };
  torch::Tensor inside;
  {
    torch::NoGradGuard no_grad;
    const auto area2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    inside = (edge(ax, ay, bx, by) * area2 >= 0) & (edge(bx, by, cx, cy) * area2 >= 0) &
             (edge(cx, cy, ax, ay) * area2 >= 0);
  }
  const auto d2 = torch::min(torch::min(dist2(ax, ay, bx, by), dist2(bx, by, cx, cy)), dist2(cx, cy, ax, ay));
  return -torch::softplus(torch::where(inside, d2, -d2) / sigma);  // log(1 - sigmoid(x)) = -softplus(x)
}

// Sum over pairs of log(1 - D) per pixel, differentiable in the projected corners `tri` [F, 3, 2].
class SoftCoverage : public torch::autograd::Function<SoftCoverage> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& tri,
                               const torch::Tensor& face, const torch::Tensor& pixel, const torch::Tensor& px,
                               const torch::Tensor& py, double sigma, int64_t pixels, int64_t chunk) {
    ctx->save_for_backward({tri, face, pixel, px, py});
    ctx->saved_data["sigma"] = sigma;
    ctx->saved_data["chunk"] = chunk;
    const auto corners = tri.reshape({tri.size(0), 6}).t();
    auto acc = torch::zeros({pixels}, tri.options());
    for (int64_t at = 0; at < face.size(0); at += chunk) {
      const int64_t n = std::min(chunk, face.size(0) - at);
      const auto c = corners.index_select(1, face.narrow(0, at, n));
      acc.index_add_(0, pixel.narrow(0, at, n), pair_log_uncovered(c, px.narrow(0, at, n), py.narrow(0, at, n), sigma));
    }
    return acc;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const auto& face = saved[1];
    const auto& pixel = saved[2];
    const double sigma = ctx->saved_data["sigma"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto grad_acc = grad_out[0];
    auto leaf = saved[0].detach().requires_grad_();
    auto grad_tri = torch::zeros_like(leaf);
    torch::AutoGradMode enable(true);
    for (int64_t at = 0; at < face.size(0); at += chunk) {
      const int64_t n = std::min(chunk, face.size(0) - at);
      const auto pix = pixel.narrow(0, at, n);
      const auto c = leaf.reshape({leaf.size(0), 6}).t().index_select(1, face.narrow(0, at, n));
      const auto terms = pair_log_uncovered(c, saved[3].narrow(0, at, n), saved[4].narrow(0, at, n), sigma);
      grad_tri += torch::autograd::grad({terms}, {leaf}, {grad_acc.index_select(0, pix)})[0];
    }
    return {grad_tri, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor render_silhouettes(const std::vector<torch::Tensor>& vertices, const std::vector<torch::Tensor>& faces,
                                 const std::vector<double>& tan_halfs, const SilhouetteOptions& o) {
  const int64_t batch = static_cast<int64_t>(vertices.size()), s = o.image_size();
  const auto proj = project_faces(vertices, faces, tan_halfs, s, o.near(), o.far());
  const auto pairs = face_pixel_pairs(proj, s, std::sqrt(kNegligible * o.sigma()));
  const auto px = pairs.point.select(1, 0).contiguous(), py = pairs.point.select(1, 1).contiguous();
  const auto acc = SoftCoverage::apply(proj.tri, pairs.face, pairs.pixel, px, py, o.sigma(), batch * s * s,
                                        std::max<int64_t>(1, o.chunk()));
  return (1 - torch::exp(acc)).reshape({batch, 1, s, s});
}

}  // namespace sdn::models::derender

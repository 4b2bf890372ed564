// Pose decoding and the original's perspective transform (see camera.hpp), as ATen ops.
#include "models/derender/camera.hpp"

#include <cmath>

namespace sdn::models::derender {

Pose decode_pose(const DerendererOutputs& out, const torch::Tensor& mroi, const torch::Tensor& droi) {
  Pose p;
  const auto n = out.theta_deltas.size(0);
  const auto opts = out.theta_deltas.options();
  p.thetas = torch::atan2(out.theta_deltas.select(1, 1), out.theta_deltas.select(1, 0)).unsqueeze(1);
  const auto zero = torch::zeros({n, 1}, opts);
  p.rotations = torch::cat({torch::cos(p.thetas / 2), zero, torch::sin(p.thetas / 2), zero}, 1);
  const auto areas = (droi.select(1, 0) * droi.select(1, 1)).unsqueeze(1);
  p.scales = torch::exp(out.log_scales);
  p.depths = torch::sqrt(torch::exp(out.log_depths) / areas);
  p.center2ds = mroi + out.translation2ds * droi;
  auto units = torch::stack({p.center2ds.select(1, 1), -p.center2ds.select(1, 0), -torch::ones({n}, opts)}, 1);
  units = units / torch::norm(units, 2, {1}, /*keepdim=*/true);
  p.translations = p.depths * units;
  const auto alphas = -(p.thetas - torch::atan(p.translations.narrow(1, 0, 1) / p.translations.narrow(1, 2, 1)));
  p.alphas = torch::remainder(alphas + M_PI, 2 * M_PI) - M_PI;
  return p;
}

void training_view(const Pose& pose, const torch::Tensor& mroi, const torch::Tensor& droi, const torch::Tensor& focals,
                   double image_size, torch::Tensor& perspective_translations, torch::Tensor& zooms) {
  const auto n = mroi.size(0);
  auto units = torch::stack({mroi.select(1, 1), -mroi.select(1, 0), -torch::ones({n}, mroi.options())}, 1);
  units = units / torch::norm(units, 2, {1}, /*keepdim=*/true);
  perspective_translations = pose.depths * units;
  zooms = (image_size / focals.reshape({n, 1})) / std::get<0>(torch::max(droi, 1, /*keepdim=*/true));
}

torch::Tensor quaternion_matrix(const torch::Tensor& q) {
  const auto a = q[0], b = q[1], c = q[2], d = q[3];
  return torch::stack({a * a + b * b - c * c - d * d, 2 * b * c - 2 * a * d, 2 * b * d + 2 * a * c,
                       2 * b * c + 2 * a * d, a * a - b * b + c * c - d * d, 2 * c * d - 2 * a * b,
                       2 * b * d - 2 * a * c, 2 * c * d + 2 * a * b, a * a - b * b - c * c + d * d})
      .reshape({3, 3});
}

namespace {

torch::Tensor posed(const torch::Tensor& vertices, const torch::Tensor& scale, const torch::Tensor& rotation,
                    const torch::Tensor& translation) {
  auto v = vertices * scale.reshape({1, 3});
  v = torch::matmul(v, quaternion_matrix(rotation).t());
  return v + translation.reshape({1, 3});
}

// x - x0 / z0 * z, y - y0 / z0 * z: keeps the perspective centre's ray on the optical axis.
void shear(const torch::Tensor& v, const torch::Tensor& centre, torch::Tensor& x, torch::Tensor& y, torch::Tensor& z) {
  x = v.select(1, 0);
  y = v.select(1, 1);
  z = v.select(1, 2);
  x = x - centre[0] / centre[2] * z;
  y = y - centre[1] / centre[2] * z;
}

}  // namespace

torch::Tensor perspective_transform(const torch::Tensor& vertices, const torch::Tensor& scale,
                                    const torch::Tensor& rotation, const torch::Tensor& translation,
                                    const torch::Tensor& perspective_translation, const torch::Tensor& zoom) {
  torch::Tensor x, y, z;
  shear(posed(vertices, scale, rotation, translation), perspective_translation, x, y, z);
  return torch::stack({x, y, z / zoom.reshape({})}, 1);
}

torch::Tensor perspective_transform_fit(const torch::Tensor& vertices, const torch::Tensor& scale,
                                        const torch::Tensor& rotation, const torch::Tensor& translation,
                                        double zoom_to, torch::Tensor& zoom) {
  torch::Tensor x, y, z;
  shear(posed(vertices, scale, rotation, translation), translation, x, y, z);
  zoom = (torch::min(torch::abs(z) / torch::max(torch::abs(x), torch::abs(y))) * zoom_to).reshape({1});
  return torch::stack({x, y, z / zoom}, 1);
}

}  // namespace sdn::models::derender

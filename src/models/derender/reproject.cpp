// Mesh choice, FFD, pose and rendering of a batch of objects (see reproject.hpp).
#include "models/derender/reproject.hpp"

#include <algorithm>

#include "models/derender/ffd.hpp"

namespace sdn::models::derender {

void MeshBank::add(const torch::Tensor& vertices, const torch::Tensor& faces, int64_t grid) {
  TORCH_CHECK(vertices.dim() == 2 && vertices.size(1) == 3, "MeshBank: vertices must be [V, 3]");
  TORCH_CHECK(faces.dim() == 2 && faces.size(1) == 3, "MeshBank: faces must be [F, 3]");
  vertices_.push_back(vertices.to(torch::kFloat));
  faces_.push_back(faces.to(torch::kLong));
  bases_.push_back(ffd_basis(vertices_.back(), grid));
}

void MeshBank::to(const torch::Device& device) {
  for (auto* v : {&vertices_, &faces_, &bases_})
    for (auto& t : *v) t = t.to(device);
}

MeshChoice choose_meshes(const DerendererOutputs& out, const std::vector<double>& uniforms) {
  const auto log_p = torch::log_softmax(out.class_logits, 1);
  const int64_t n = log_p.size(0);
  MeshChoice c;
  if (uniforms.empty()) {
    c.index = std::get<1>(out.class_probs.max(1));
  } else {
    TORCH_CHECK(static_cast<int64_t>(uniforms.size()) == n, "choose_meshes: one uniform per object");
    const auto cdf = torch::cumsum(out.class_probs.detach().to(torch::kDouble).cpu(), 1);
    std::vector<int64_t> idx(static_cast<size_t>(n));
    const auto a = cdf.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t k = 0;
      while (k + 1 < cdf.size(1) && a[i][k] <= uniforms[static_cast<size_t>(i)] * a[i][cdf.size(1) - 1]) ++k;
      idx[static_cast<size_t>(i)] = k;
    }
    c.index = torch::tensor(idx, torch::kLong).to(log_p.device());
  }
  c.log_probs = log_p.gather(1, c.index.unsqueeze(1)).squeeze(1);
  return c;
}

Reprojection reproject(const MeshBank& bank, const DerendererOutputs& out, const Pose& pose, const MeshChoice& choice,
                       const torch::Tensor& mroi, const torch::Tensor& droi, const torch::Tensor& focals,
                       const ReprojectOptions& o) {
  const int64_t n = out.theta_deltas.size(0);
  const auto f = focals.reshape({n}).to(torch::kDouble).cpu();
  torch::Tensor centres, zooms;
  if (!o.fit()) training_view(pose, mroi, droi, focals.reshape({n, 1}), o.image_size(), centres, zooms);
  Reprojection r;
  std::vector<torch::Tensor> fit_zooms;
  const auto index = choice.index.cpu();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = index[i].item<int64_t>();
    TORCH_CHECK(k >= 0 && k < bank.size(), "reproject: mesh ", k, " is not in the bank of ", bank.size());
    const double focal = f[i].item<double>();
    const auto v = ffd_deform(bank.basis(k), out.ffd_coeffs[i][k]);
    if (o.fit()) {
      torch::Tensor zoom;
      r.vertices.push_back(perspective_transform_fit(v, pose.scales[i], pose.rotations[i], pose.translations[i],
                                                     o.render_size() / (2.0 * focal), zoom));
      fit_zooms.push_back(zoom);
    } else {
      r.vertices.push_back(
          perspective_transform(v, pose.scales[i], pose.rotations[i], pose.translations[i], centres[i], zooms[i]));
    }
    r.faces.push_back(bank.faces(k));
    r.tan_halfs.push_back(o.render_size() / (2.0 * focal));
  }
  r.zooms = o.fit() ? torch::stack(fit_zooms, 0) : zooms;
  auto so = o.silhouette();
  so.image_size(o.render_size());
  r.masks = render_silhouettes(r.vertices, r.faces, r.tan_halfs, so);
  return r;
}

}  // namespace sdn::models::derender

// Implements the re-rendering of a frame's objects (see scene_render.hpp), with the same tensors, renderers and
// paste arithmetic as DerenderStage::predict (stages/derender_predict.cpp), so an unedited object lands on the
// same pixels.
#include "train/scene_render.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/ffd.hpp"
#include "models/derender/raster_maps.hpp"
#include "models/derender/silhouette.hpp"

namespace sdn::train {
namespace {

namespace md = models::derender;

template <size_t N>
torch::Tensor floats(const std::array<double, N>& a) {
  std::vector<float> v(a.begin(), a.end());
  return torch::tensor(v, torch::kFloat);
}

}  // namespace

FrameMaps blank_frame_maps(int W, int H) {
  FrameMaps m;
  m.instance = {W, H, 1, std::vector<std::uint8_t>(size_t(W) * H, 0)};
  m.normal = {W, H, 3, std::vector<std::uint8_t>(size_t(W) * H * 3, 127)};
  m.depth = {W, H, std::vector<std::uint16_t>(size_t(W) * H, 65535)};
  return m;
}

void paste_render(FrameMaps& maps, const torch::Tensor& masks, const torch::Tensor& dmap, const torch::Tensor& nmap,
                  int64_t k, double zoom, double cv, double cu, int id) {
  const int W = maps.instance.width, H = maps.instance.height;
  const int64_t S = masks.size(-1);
  const int size = static_cast<int>(static_cast<double>(S) / zoom);
  const int left = static_cast<int>(cu - size / 2), top = static_cast<int>(cv - size / 2);
  const float* mk = masks[k][0].data_ptr<float>();
  const float* d = dmap[k][0].data_ptr<float>();
  const auto n = nmap[k];
  const float *nx = n[0].data_ptr<float>(), *ny = n[1].data_ptr<float>(), *nz = n[2].data_ptr<float>();
  for (int y = std::max(0, top); y < std::min(H, top + size); ++y)
    for (int x = std::max(0, left); x < std::min(W, left + size); ++x) {
      const int64_t sy = std::min<int64_t>(S - 1, (y - top) * S / std::max(1, size));
      const int64_t sx = std::min<int64_t>(S - 1, (x - left) * S / std::max(1, size));
      const int64_t q = sy * S + sx;
      if (mk[q] < 0.5f) continue;
      const size_t p = size_t(y) * W + x;
      maps.instance.pixels[p] = static_cast<std::uint8_t>(std::min(255, id));
      const float nv[3] = {nx[q], ny[q], nz[q]};
      for (int ch = 0; ch < 3; ++ch)
        maps.normal.pixels[p * 3 + ch] = static_cast<std::uint8_t>(std::clamp((nv[ch] / 2 + 0.5f) * 255.0f, 0.0f, 255.0f));
      maps.depth.pixels[p] = static_cast<std::uint16_t>(std::min(1.0, d[q] * zoom / 100.0) * 65535.0);
    }
}

FrameMaps render_scene(Scene& scene, const md::MeshBank& bank, const SceneRenderOptions& o, const data::Sample& s) {
  torch::NoGradGuard no_grad;
  const int W = s.width, H = s.height;
  const int64_t S = o.render_size;
  FrameMaps m = blank_frame_maps(W, H);
  // Objects the derenderer left out keep their ground-truth masks, under everything else (as predict).
  for (size_t r = 0; r < s.objects.size(); ++r) {
    if (scene.objects.count(static_cast<int>(r) + 1)) continue;
    const auto id = static_cast<std::uint16_t>(s.objects[r].track_id + 1);
    for (size_t p = 0; p < s.instance.size(); ++p)
      if (s.instance[p] == id) m.instance.pixels[p] = static_cast<std::uint8_t>(std::min<size_t>(255, r + 1));
  }
  std::vector<SceneObject*> drawn;
  for (auto& [id, ob] : scene.objects)
    if (!ob.deleted) drawn.push_back(&ob);
  if (drawn.empty()) return m;
  // The predict path's focal is the float the batch carried.
  const double focal = static_cast<double>(static_cast<float>(s.K.fx));
  std::vector<torch::Tensor> vertices, faces;
  std::vector<double> tan_halfs;
  std::vector<double> zooms;
  for (auto* ob : drawn) {
    if (ob->mesh < 0 || ob->mesh >= bank.size())
      throw UsageError("object " + std::to_string(ob->id) + ": mesh " + std::to_string(ob->mesh) +
                           " is not one of the derender run's " + std::to_string(bank.size()) + " meshes",
                       "change the mesh to an index 0.." + std::to_string(bank.size() - 1));
    const auto& basis = bank.basis(ob->mesh);
    if (static_cast<int64_t>(ob->ffd_coeffs.size()) != 3 * basis.size(1))
      throw UsageError("object " + std::to_string(ob->id) + ": " + std::to_string(ob->ffd_coeffs.size()) +
                           " FFD coefficients, the mesh lattice needs " + std::to_string(3 * basis.size(1)),
                       "use the predictions and the derender run that made them (--derender-run)");
    std::vector<float> c(ob->ffd_coeffs.begin(), ob->ffd_coeffs.end());
    const auto v = md::ffd_deform(basis, torch::tensor(c, torch::kFloat));
    torch::Tensor zoom;
    const double zoom_to = static_cast<double>(S) / (2.0 * focal);
    vertices.push_back(md::perspective_transform_fit(v, floats(ob->scale), floats(ob->rotation),
                                                     floats(ob->translation), zoom_to, zoom));
    faces.push_back(bank.faces(ob->mesh));
    tan_halfs.push_back(static_cast<double>(S) / (2.0 * focal));
    zooms.push_back(zoom[0].item<double>());
    ob->zoom = zooms.back();
  }
  const auto so = md::SilhouetteOptions().image_size(S).sigma(o.sigma);
  const auto masks = md::render_silhouettes(vertices, faces, tan_halfs, so).to(torch::kCPU).contiguous();
  const auto maps = md::render_depth_normal(vertices, faces, tan_halfs, md::RasterMapsOptions().image_size(S));
  const auto dmap = maps.depth.to(torch::kCPU).contiguous();
  const auto nmap = maps.normal.to(torch::kCPU).contiguous();
  // Far to near by the (float) centre distance, ties in id order, as predict's stable sort.
  std::vector<size_t> order(drawn.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return static_cast<float>(drawn[a]->depth) > static_cast<float>(drawn[b]->depth);
  });
  for (size_t i : order)
    paste_render(m, masks, dmap, nmap, static_cast<int64_t>(i), zooms[i], drawn[i]->center2d[0], drawn[i]->center2d[1],
                 drawn[i]->id);
  return m;
}

}  // namespace sdn::train

// Implements the ground-truth normal maps of the textural stage (see textural_normals.hpp).
#include "train/stages/textural_normals.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "data/derender_targets.hpp"
#include "data/mesh.hpp"
#include "data/mesh_vehicles.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/raster_maps.hpp"

namespace sdn::train {
namespace {

namespace md = models::derender;

constexpr int kCar = 2, kVan = 12;
constexpr int kMinPixels = 16 * 16;  // the derenderer predict's objects of interest (mask sum > 16^2)

// The derenderer stage's mesh bank, read the same way (derender_stage.cpp's load_meshes).
std::vector<data::Mesh> bank_meshes(const std::string& dir) {
  if (dir.empty()) return data::vehicle_meshes();
  if (!std::filesystem::is_directory(dir))
    throw UsageError("textural.meshes: " + dir + " is not a directory",
                     "give a directory of the 8 .obj meshes (as derender.meshes), or leave it empty for sdn's "
                     "generated vehicles");
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".obj") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  if (static_cast<int>(paths.size()) != data::kVehicleMeshCount)
    throw UsageError("textural.meshes: " + dir + " holds " + std::to_string(paths.size()) + " .obj file(s), not " +
                         std::to_string(data::kVehicleMeshCount),
                     "use the derenderer's mesh directory (derender.meshes), 8 meshes in class order");
  std::vector<data::Mesh> out;
  for (const auto& p : paths) out.push_back(data::load_shapenet_obj(p));
  return out;
}

torch::Tensor vec(const float* v, int64_t n) {
  return torch::from_blob(const_cast<float*>(v), {n}, torch::kFloat).clone();
}

}  // namespace

GroundTruthNormals::GroundTruthNormals(const GroundTruthNormalsOptions& o) : options_(o) {
  for (const auto& m : bank_meshes(o.meshes)) {
    auto v = torch::empty({static_cast<int64_t>(m.vertices.size()), 3});
    auto f = torch::empty({static_cast<int64_t>(m.faces.size()), 3}, torch::kLong);
    auto va = v.accessor<float, 2>();
    auto fa = f.accessor<int64_t, 2>();
    for (size_t i = 0; i < m.vertices.size(); ++i)
      for (int a = 0; a < 3; ++a) va[static_cast<int64_t>(i)][a] = m.vertices[i][a];
    for (size_t i = 0; i < m.faces.size(); ++i)
      for (int a = 0; a < 3; ++a) fa[static_cast<int64_t>(i)][a] = m.faces[i][a];
    vertices_.push_back(v);
    faces_.push_back(f);
  }
  for (int k : {o.car_mesh, o.van_mesh})
    if (k < 0 || k >= static_cast<int>(vertices_.size()))
      throw UsageError("textural.car_mesh/van_mesh: " + std::to_string(k) + " is not a mesh of the bank of " +
                       std::to_string(vertices_.size()));
}

std::vector<std::uint8_t> GroundTruthNormals::render(const data::Sample& s) const {
  const int W = s.width, H = s.height;
  std::vector<std::uint8_t> out(static_cast<size_t>(W) * H * 3, 127);
  if (s.instance.size() != static_cast<size_t>(W) * H) return out;
  torch::NoGradGuard no_grad;
  const double f = s.K.fx;
  for (const auto& o : s.objects) {
    if (o.class_id != kCar && o.class_id != kVan) continue;
    if (!(o.length3d > 0 && o.height3d > 0 && o.width3d > 0)) continue;  // no 3D box to pose a mesh in
    const auto id = static_cast<std::uint16_t>(o.track_id + 1);
    if (std::count(s.instance.begin(), s.instance.end(), id) <= kMinPixels) continue;
    data::derender::Roi roi;
    if (!data::derender::instance_roi(s.instance, W, H, id, roi)) continue;
    const auto t = data::derender::object_targets(o, roi, s.K);
    if (t.translation[2] > -0.5f) continue;  // not in front of the camera
    // The predict renders at 384 px and pastes nearest-neighbour into the object's square; rendering at about
    // the square's own size samples the same surface at the frame's pixels, at a fraction of the cost.
    const int box = std::max(roi[2] - roi[0], roi[3] - roi[1]);
    const int64_t S = std::clamp((box + 7) / 8 * 8, 32, std::max(32, options_.max_render_size));
    const size_t k = static_cast<size_t>(o.class_id == kCar ? options_.car_mesh : options_.van_mesh);
    torch::Tensor zoom;
    const double tan_half = static_cast<double>(S) / (2.0 * f);
    const auto v = md::perspective_transform_fit(vertices_[k], vec(t.scale.data(), 3), vec(t.rotation.data(), 4),
                                                 vec(t.translation.data(), 3), tan_half, zoom);
    const auto maps = md::render_depth_normal({v}, {faces_[k]}, {tan_half}, md::RasterMapsOptions().image_size(S));
    const auto n = maps.normal[0].contiguous();
    const float *nx = n[0].data_ptr<float>(), *ny = n[1].data_ptr<float>(), *nz = n[2].data_ptr<float>();
    const int size = static_cast<int>(static_cast<double>(S) / zoom.item<double>());
    // The square is centred on the projection of the object's centre, as the predict's center2d.
    const double cv = t.translation[1] / t.translation[2], cu = -t.translation[0] / t.translation[2];
    const int left = static_cast<int>(cu * f + s.K.cx - size / 2), top = static_cast<int>(cv * f + s.K.cy - size / 2);
    for (int y = std::max(0, top); y < std::min(H, top + size); ++y)
      for (int x = std::max(0, left); x < std::min(W, left + size); ++x) {
        const size_t p = static_cast<size_t>(y) * W + x;
        if (s.instance[p] != id) continue;
        const int64_t sy = std::min<int64_t>(S - 1, static_cast<int64_t>(y - top) * S / std::max(1, size));
        const int64_t sx = std::min<int64_t>(S - 1, static_cast<int64_t>(x - left) * S / std::max(1, size));
        const int64_t q = sy * S + sx;
        const float nv[3] = {nx[q], ny[q], nz[q]};
        // Covered by the render: at least half of the anti-aliasing samples hit (the predict's silhouette > 0.5).
        if (nv[0] * nv[0] + nv[1] * nv[1] + nv[2] * nv[2] < 0.25f) continue;
        for (int c = 0; c < 3; ++c)
          out[p * 3 + c] = static_cast<std::uint8_t>(std::clamp((nv[c] / 2 + 0.5f) * 255.0f, 0.0f, 255.0f));
      }
  }
  return out;
}

}  // namespace sdn::train

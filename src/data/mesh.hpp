// Triangle meshes of the derenderer and of `sdn synth`: the plain representation, Wavefront .obj reading and
// writing, and the original's ShapeNet normalisation (nr.load_obj's centring, then a unit box per axis, axes
// reordered [z, y, x] and the new x negated), so that loaded and generated meshes share one object frame:
// x = length (front at +x), y = up, z = width, each axis spanning [-0.5, 0.5]. Plain C++ (data/ sees no LibTorch).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdn::data {

struct Mesh {
  std::string name;
  std::vector<std::array<float, 3>> vertices;
  std::vector<std::array<std::int32_t, 3>> faces;  // 0-based vertex indices
};

// Parses .obj text: `v x y z` and `f a b c ...` lines (a may be `i`, `i/t`, `i//n`, `i/t/n`, negative = relative);
// polygons are triangulated as a fan from their first corner, like nr.load_obj; other lines are ignored.
// `origin` names the source in errors ("model.obj:12: ...").
Mesh parse_obj(const std::string& text, const std::string& origin);
Mesh load_obj(const std::string& path);

// The .obj text of `mesh` (v and f lines, 1-based, full float precision); write_obj writes it crash-safely.
std::string obj_text(const Mesh& mesh);
void write_obj(const Mesh& mesh, const std::string& path);

// nr.load_obj(normalization=True) then 3D-SDN's ShapenetObj: centre the bounding box, divide each axis by its
// extent, reorder to [z, y, x] and negate the new x. Throws if an axis has zero extent.
void normalise_shapenet(Mesh& mesh);
// The inverse axis map (no rescaling): a mesh in the object frame written in ShapeNet's raw axes, so that
// normalise_shapenet(to_shapenet_frame(m)) == m for a centred unit-box mesh.
Mesh to_shapenet_frame(const Mesh& mesh);
// load_obj + normalise_shapenet: what the derenderer reads for each of `derender.meshes`.
Mesh load_shapenet_obj(const std::string& path);

// Per-axis minimum and maximum of the vertices.
void bounds(const Mesh& mesh, std::array<float, 3>& lo, std::array<float, 3>& hi);
// Signed volume (positive for outward-oriented closed meshes) and the number of edges used by other than
// exactly two faces (0 for a closed, edge-manifold mesh): the generator's tests use both.
double signed_volume(const Mesh& mesh);
std::int64_t open_edge_count(const Mesh& mesh);

}  // namespace sdn::data

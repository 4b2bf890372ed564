// The objects of one frame as a derenderer run's `sdn predict` recorded them (NNNNN.json, docs/data-format.md)
// and the edits `sdn edit` applies to them: move (3D), shift or place the projected centre (2D, at constant
// distance, as 3D-SDN's edit benchmark), zoom (distance / zoom), rotate (delta ry), change the mesh, scale,
// delete. Edits come from the command line ("OBJ:OP=VALUE;...") or from a JSON list in the format of 3D-SDN's
// assets/vkitti_edit_benchmark.json (objects picked by the pixel nearest their box centre, as the original).
// Pure C++: no LibTorch.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/frame.hpp"

namespace sdn::train {

// One derendered object. Frames as models/derender/camera.hpp: x right, y up, z backwards (camera at the
// origin looking along -z); scale = (length, height, 1.2206 * width).
struct SceneObject {
  int id = 0;  // the instance-map value (the JSON key: /objects row + 1)
  int class_id = 0, track_id = -1;
  double depth = 0, alpha = 0, theta = 0;  // theta = -ry
  std::array<double, 4> rotation{1, 0, 0, 0};
  std::array<double, 3> translation{0, 0, -1}, scale{1, 1, 1};
  std::array<double, 2> center2d{0, 0};  // pixel (v, u) of the projected centre
  double zoom = 1;
  int mesh = 0;
  std::string mesh_name;
  std::vector<double> ffd_coeffs;  // the mesh's raw lattice displacements
  bool edited = false;             // pose, mesh or scale changed: center2d, depth, alpha are recomputed
  bool deleted = false;
};

struct Scene {
  std::map<int, SceneObject> objects;  // by id
};

// NNNNN.json of a derenderer prediction. Errors name `path` and the bad key.
Scene scene_from_json(const std::string& text, const std::string& path);
std::string scene_to_json(const Scene& scene);

// One object's edit. Several edits of one object apply in order.
struct ObjectEdit {
  int object = 0;                              // instance value; 0: the object nearest `from`; kLargest
  std::optional<std::array<double, 2>> from;   // pixel (u, v): the benchmark's "from"
  bool remove = false;                         // delete
  std::optional<std::array<double, 3>> move;   // metres, vKITTI camera frame: x right, y down, z forward
  std::optional<std::array<double, 2>> to;     // new pixel (u, v) of the projected centre, distance kept
  std::optional<std::array<double, 2>> shift;  // pixels added to the projected centre, distance kept
  double zoom = 1;                             // distance divided by zoom (the benchmark's "zoom")
  double rotate = 0;                           // added to ry (radians)
  std::optional<int> mesh;                     // mesh index 0..7 (its own FFD lattice starts undeformed)
  std::array<double, 3> scale{1, 1, 1};        // multiplies (length, height, width)
  std::string text;                            // as written, for messages
};

// ObjectEdit::object of "largest": the derendered object with the most pixels in the predicted instance map.
constexpr int kLargest = -1;

// One frame's edits: the frame edited (source) and, for the benchmark, the frame it should look like.
struct EditEntry {
  std::string world, variation;
  int source = 0;
  int target = -1;  // -1: none
  std::vector<ObjectEdit> edits;
};

// --edit: "OBJ:OP[=VALUE][:OP[=VALUE]...]" joined by ';', e.g. "3:move=2,0,0:rotate=0.3;5:delete"; OBJ is an
// instance value or `largest`. OPs: move=dx,dy,dz
// (m), shift=du,dv (px), to=u,v (px), zoom=z, rotate=dry (rad; or NNdeg), mesh=k, scale=s or scale=sl,sh,sw,
// delete. Throws UsageError naming the bad part.
std::vector<ObjectEdit> parse_edit_text(const std::string& text);

// A JSON list in 3D-SDN's edit-benchmark format: entries {world, topic, source, target, operations}; each
// operation {type: modify|delete, from: {u, v}, to: {u, v} or {}, zoom, ry}, numbers as strings or numbers;
// sdn's optional extras in an operation: "object" (instead of "from"), "move" [dx,dy,dz], "mesh", "scale".
std::vector<EditEntry> parse_edit_json(const std::string& text, const std::string& path);

// The frame's facts the edits need: intrinsics and, per object id, the centre of its box (pixel u, v) that
// `from` is matched against (the original: the mask box centre).
struct EditFrame {
  data::Intrinsics K;
  std::map<int, std::array<double, 2>> box_centres;
  std::map<int, long> visible_pixels;  // per object id, in the predicted instance map (for `largest`)
};

// Applies `edits` to `scene` (marking what changed). An object id the scene does not hold, or an edit that
// matches no object, is a UsageError naming it and the ids there are. Returns one line per applied edit.
std::vector<std::string> apply_edits(Scene& scene, const std::vector<ObjectEdit>& edits, const EditFrame& frame);

// Recomputes an edited object's quaternion, depth, alpha and projected centre from its theta and translation.
void update_derived(SceneObject& object, const data::Intrinsics& K);

}  // namespace sdn::train

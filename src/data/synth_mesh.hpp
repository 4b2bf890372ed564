// The shapes of `sdn synth`'s cars and vans, and their rasteriser. Each track is drawn with one of sdn's 8
// generated vehicle meshes (data/mesh_vehicles.hpp, the derenderer's default mesh set), chosen from its model
// name and the seed, deformed by a modest random FFD (data/mesh_ffd.hpp, seeded per track) and re-fitted to the
// unit box, so that scaled by the track's (length, height, width) it fills exactly its 3D box. Posed meshes
// are z-buffered at pixel centres, the sampling of the ray caster in synth_render.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/frame.hpp"
#include "data/mesh.hpp"
#include "data/mesh_vehicles.hpp"
#include "data/synth_scene.hpp"

namespace sdn::data::synth {

struct VehicleShape {
  int mesh = 0;                    // index into vehicle_meshes() (VehicleKind order)
  Mesh geometry;                   // object frame (x = length, front at +x; y up; z = width), each axis [-0.5, 0.5]
  std::vector<VehiclePart> parts;  // per face
};

// The generated mesh a track is drawn with: one of those that fit its model name (e.g. Sedan4Door: sedan or
// wagon), or of its class for other names, drawn from (scene key, track id). Every one of the 8 occurs.
int vehicle_mesh_choice(std::uint64_t scene_key, int track_id, int class_id, const std::string& model);

// The track's deformed shape. A pure function of its arguments, cached per thread.
std::shared_ptr<const VehicleShape> vehicle_shape(std::uint64_t scene_key, int track_id, int class_id,
                                                  const std::string& model);

// A shape posed in the camera frame (x right, y down, z forward) as motgt defines it: object frame -> box-local
// (x = length, y down from the bottom face, z = width; the object frame's z is negated with its y, as the
// derenderer's OpenGL pose implies) -> R_y(ry) local + bottom-face centre.
struct PosedShape {
  const VehicleShape* shape = nullptr;
  std::vector<Vec3> vertices;    // camera frame
  int u0 = 0, u1 = -1, v0 = 0, v1 = -1;  // the only pixels it may cover (its box's projection)
};

PosedShape pose_shape(const VehicleShape& shape, const Vec3& bottom, double ry, double length, double height,
                      double width);

// Unit normal of a face of a posed shape, in the camera frame, pointing out of the (closed, outward) mesh.
Vec3 face_normal(const PosedShape& posed, int face);

// The vehicles' z-buffer of one frame: nearest vehicle surface per pixel, which vehicle and face it is, and
// each vehicle's silhouette size whatever occludes it (its pixels before the depth test: occupancy).
class VehicleRaster {
 public:
  VehicleRaster(int width, int height, int vehicles);

  // Draws the faces of `posed` turned towards the camera (clipped at depth `near`) as vehicle `index`.
  void draw(const PosedShape& posed, int index, const Intrinsics& K, double near);

  float depth(size_t pixel) const { return depth_[pixel]; }  // +inf: no vehicle
  int vehicle(size_t pixel) const { return vehicle_[pixel]; }  // -1: no vehicle
  int face(size_t pixel) const { return face_[pixel]; }
  int coverage(int index) const { return coverage_[static_cast<size_t>(index)]; }

 private:
  void fill(const double (&x)[3], const double (&y)[3], const double (&z)[3], const PosedShape& posed, int index,
            int face);

  int width_;
  std::vector<float> depth_;
  std::vector<std::int16_t> vehicle_;
  std::vector<std::int32_t> face_;
  std::vector<std::int16_t> stamp_;  // last vehicle whose silhouette covered the pixel
  std::vector<int> coverage_;
};

}  // namespace sdn::data::synth

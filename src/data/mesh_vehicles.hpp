// sdn's own set of 8 vehicle meshes, standing in for 3D-SDN's 8 ShapeNet models (which can be neither shipped
// nor downloaded): closed triangle meshes lofted procedurally from side profiles (roof line, belt line, ground
// clearance, tumblehome) plus four wheels, in the object frame of normalise_shapenet (x = length with the
// front at +x, y = up, z = width, each axis spanning exactly [-0.5, 0.5]), so they are interchangeable with
// loaded ShapeNet meshes. Pure functions of the options; write_vehicle_meshes ships them as .obj files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/mesh.hpp"

namespace sdn::data {

// The set, in index order (the index is the derenderer's mesh class). The bus sits at index 5 as in the
// original's list (its 6th mesh is ShapeNet's bus 7905d8...).
enum class VehicleKind { kSedan, kHatchback, kSuv, kWagon, kCoupe, kBus, kPickup, kVan };
constexpr int kVehicleMeshCount = 8;

struct VehicleMeshOptions {
  int stations = 32;        // cross-sections along the length (more: smoother profiles, more faces)
  int wheel_segments = 16;  // sides of each wheel's prism
};

// "sedan", "hatchback", "suv", "wagon", "coupe", "bus", "pickup", "van".
const char* vehicle_kind_name(VehicleKind kind);
// Typical metric size (length, height, width) of the kind, in metres: the proportions the mesh was built with
// (the mesh itself is a unit box; the derenderer's scale head supplies the size).
std::array<float, 3> vehicle_kind_size(VehicleKind kind);

Mesh vehicle_mesh(VehicleKind kind, const VehicleMeshOptions& options = {});

// What each face of vehicle_mesh(kind, options) belongs to, in face order: `sdn synth` paints the body, darkens
// the glass (side windows where the greenhouse is taller than a trim strip, and the steep parts of the roof
// line: windscreen and rear window) and the wheels.
enum class VehiclePart : std::uint8_t { kBody, kGlass, kWheel };
std::vector<VehiclePart> vehicle_mesh_parts(VehicleKind kind, const VehicleMeshOptions& options = {});
// All 8, in index order.
std::vector<Mesh> vehicle_meshes(const VehicleMeshOptions& options = {});

// Writes dir/<index>-<name>.obj for each mesh, in ShapeNet's raw axes (to_shapenet_frame), so that
// load_shapenet_obj reads them back as vehicle_meshes() returns them. Returns the paths in index order.
std::vector<std::string> write_vehicle_meshes(const std::string& dir, const VehicleMeshOptions& options = {});

}  // namespace sdn::data

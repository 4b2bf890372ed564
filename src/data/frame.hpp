// One vKITTI frame as every layer above the readers sees it, whatever the source layout:
// RGB, 3D-SDN class ids, instance ids, depth, per-object ground truth, camera intrinsics and identity.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::data {

constexpr std::uint8_t kUnlabelled = 255;  // class id of pixels whose colour maps to no 3D-SDN class
constexpr std::uint16_t kDepthSky = 65535; // depth value of sky / beyond the far plane (655.35 m)

// Per-object ground truth in the 1.3.1 motgt convention (2.0.3 fields are mapped onto it by the reader).
struct ObjectGT {
  int track_id = 0;
  int class_id = 0;              // 3D-SDN class id (Car 2, Van 12, Truck 11)
  float left = 0, top = 0, right = 0, bottom = 0;  // inclusive pixel box
  float width3d = 0, height3d = 0, length3d = 0;   // metres
  float x3d = 0, y3d = 0, z3d = 0;                 // camera coordinates, centre of the bottom face
  float rotation_y = 0;                            // yaw in the camera frame (ry)
  float alpha = 0;                                 // observation angle
  float truncation = 0;                            // 2D truncation ratio in [0, 1]
  float occupancy = 0;                             // fraction of non-occluded pixels in [0, 1]
  bool moving = false;
};

struct Intrinsics {
  double fx = 725.0, fy = 725.0, cx = 620.5, cy = 187.0;
};

struct Frame {
  std::string world;      // "0001" (1.3.1) or "Scene01" normalised to "0001" (2.0.3)
  std::string variation;  // "clone", "fog", ...
  int index = 0;          // frame number within the sequence
  int camera = 0;         // 0 = left (1.3.1 has only 0)
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;        // H*W*3, RGB order
  std::vector<std::uint8_t> classes;    // H*W, 3D-SDN ids 0..13 or kUnlabelled
  std::vector<std::uint16_t> instance;  // H*W, 0 = none, else track id + 1
  std::vector<std::uint16_t> depth;     // H*W, centimetres, kDepthSky for sky
  std::vector<ObjectGT> objects;
  Intrinsics K;
};

}  // namespace sdn::data

// Ray casting of one synthetic frame: every pixel's ray is intersected with the ground, facades, rails, props
// and vehicle boxes; the nearest hit (a z-buffer on camera depth) gives class, instance, depth and colour
// together, so they agree by construction. Per-vehicle statistics (visible pixels, tight box, truncation,
// occupancy) come from the same pass. Pure: a function of the scene model and the frame's identity.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "data/frame.hpp"
#include "data/synth_look.hpp"
#include "data/synth_scene.hpp"
#include "data/vkitti.hpp"

namespace sdn::data::synth {

// A vehicle as it appears in one camera image, with what the text files need beyond ObjectGT.
struct RenderedObject {
  ObjectGT gt;                 // camera frame, values rounded exactly as written to the text files
  int pixels = 0;              // visible pixels (2.0.3 bbox.txt number_pixels)
  int truncated = 0;           // 1.3.1 motgt flags: 1 = cut by the image border
  int occluded = 0;            // 0 fully visible, 1 partly, 2 largely occluded
  Vec3 world;                  // road-frame bottom centre (2.0.3 pose.txt world_space_*), rounded like gt
  float world_ry = 0;
  const char* model = "";
  const char* color_name = "";
};

struct RenderedFrame {
  Frame frame;                          // what a reader must return (objects sorted by track id)
  std::vector<RenderedObject> objects;  // same order as frame.objects
  std::array<double, 16> extrinsic{};   // road frame -> camera, row-major 4x4
};

// Renders `camera` of frame `index`. The intrinsics are the layout's, scaled to width x height.
RenderedFrame render_frame(const SceneModel& scene, const Look& look, Layout layout, const std::string& world,
                           const std::string& variation, int index, int camera, int width, int height);

}  // namespace sdn::data::synth

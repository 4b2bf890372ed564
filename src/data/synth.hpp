// Synthetic Virtual KITTI: geometrically consistent scenes (road, sky, buildings, vegetation; cars and vans as
// deformed vehicle meshes filling their 3D boxes, projected with the vKITTI intrinsics) written in the exact file
// layout and encodings of 1.3.1 or 2.0.3, so the readers are exercised exactly as on the real data.
// Deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/frame.hpp"
#include "data/synth_scene.hpp"
#include "data/vkitti.hpp"

namespace sdn::data {

// Side file at the root of a synthetic tree: "world trackID label model mesh mesh_name" per track.
constexpr const char* kMeshTableFile = "sdn_synth_meshes.txt";

struct SynthOptions {
  Layout layout = Layout::kVkitti1;
  std::string out;                                       // root of the tree to write
  std::vector<std::string> worlds = {"0001"};            // normalised world ids
  std::vector<std::string> variations = {"clone"};
  int frames = 8;                                        // frames per sequence
  int first_frame = 0;                                   // index of the first frame (to hit train/test ranges)
  int width = 1242, height = 375;
  std::uint64_t seed = 0;
  int threads = 1;
  bool progress = false;                                 // draw a progress bar on stderr while writing
  synth::Traffic traffic;                                // vehicle size and count (default: the standard scene)
};

// Every problem with `options` (unknown world or variation names, sizes, frame range beyond a world's length);
// empty when they are fine. Pure: the output directory is checked by write_synthetic.
std::vector<std::string> validate(const SynthOptions& options);

// The ground truth of one synthetic frame, exactly as a reader must return it after decoding the files
// (RGB may differ for the JPEG layout; everything else must match bit for bit).
Frame synth_frame(const SynthOptions& options, const std::string& world, const std::string& variation, int index,
                  int camera);

// Writes the whole tree (all modalities, per-sequence text files; 2.0.3: both cameras), frames in parallel on
// `threads` threads, plus the side file kMeshTableFile at its root: which generated mesh draws each track.
// Throws UsageError listing validate()'s problems, Error naming an unwritable path.
void write_synthetic(const SynthOptions& options);

}  // namespace sdn::data

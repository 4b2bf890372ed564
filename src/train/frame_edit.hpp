// `sdn edit`, the point of 3D-SDN: a frame's derendered objects are edited in 3D (train/scene_edit.hpp), the
// instance, normal and depth maps re-rendered (train/scene_render.hpp), and a trained textural run draws the
// edited frame (3D-SDN's textural/edit_vkitti.py): labels with the Car/Van pixels re-drawn from the edited
// objects, instance edges, the instance codes netE encoded from the unedited frame (a moved object keeps its
// code), pose bins of the new alphas and the new normals. The benchmark runs a list of such edits and compares
// each edited image with its target frame (L1, PSNR, SSIM; textural/edit_benchmark.py reports L1).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/shard_set.hpp"
#include "models/derender/reproject.hpp"
#include "train/scene_edit.hpp"
#include "train/scene_render.hpp"
#include "train/stage.hpp"

namespace sdn::train {

class TexturalStage;

// The meshes and render settings (derender.render_size, sigma) of the derender run that wrote the predictions:
// `run_dir` (its run.ini), or when empty the directory above `geometric_dir` if it is one (`sdn predict`
// writes RUN/predict by default). Not a derender run, or none found: a UsageError saying to pass --derender-run.
models::derender::MeshBank derender_run_meshes(const std::string& run_dir, const std::string& geometric_dir,
                                               SceneRenderOptions& render);

struct FrameEditOptions {
  std::string geometric_dir;  // a derender run's `sdn predict --out` (NNNNN.json/.png/-normal.png per frame)
  std::string semantic_dir;   // predicted labels instead of the textural run's textural.semantic_dir (optional)
  std::string shards;         // the shards the predictions were made on (every split found there is searched)
  std::string out;
  SceneRenderOptions render;
};

struct EditMetrics {
  double l1 = 0, psnr = 0, ssim = 0;
};

struct EditOutcome {
  std::string name;                   // <world>_<variation>_<source>[-<target>]
  std::vector<std::string> applied;   // one line per applied edit
  std::vector<std::int64_t> missing;  // instance ids without an encoded code (drawn with zeros)
  bool has_target = false;
  EditMetrics metrics;                // edited image vs the target frame
  int width = 0, height = 0;          // of the edited image (the textural run's centre crop)
};

class FrameEditor {
 public:
  // `textural`: a loaded textural stage (anything else is a UsageError naming `run_dir`); `bank`: the meshes of
  // the derender run that wrote the predictions.
  FrameEditor(Stage& textural, const std::string& run_dir, models::derender::MeshBank bank, FrameEditOptions options);
  ~FrameEditor();

  // The predicted frame (world, variation, frame) of the shards with the most pixels of one derendered object in
  // its predicted instance map: what `--frame auto` edits. None: a UsageError.
  EditEntry busiest_frame() const;
  // Why `entry` cannot run (its source or target frame is not in the shards, or has no prediction), or "".
  std::string uncovered(const EditEntry& entry) const;
  // Edits one frame and writes under `dir`: <name>.png (edited image), <name>_strip.png (source | edited, and
  // | target when the entry names one), geometric/<world>/<variation>/NNNNN{.json,.png,-normal.png,-depth.png}
  // (the edited maps; a valid textural.geometric_dir). Throws UsageError on bad input (uncovered() != "").
  EditOutcome edit(const EditEntry& entry, const std::string& dir);
  // Runs every covered entry under OUT/benchmark/, skipping the others with a note, and writes
  // OUT/benchmark.{txt,json} (per entry and means over the edits and over the reconstructions, i.e. entries whose
  // source is their target). Returns the table.
  std::string benchmark(const std::vector<EditEntry>& entries);

 private:
  struct Location {
    const data::ShardSet* set = nullptr;
    std::int64_t index = -1;
  };
  std::optional<Location> locate(const std::string& world, const std::string& variation, int frame) const;
  std::string prediction_base(const EditEntry& entry) const;

  TexturalStage* stage_;
  models::derender::MeshBank bank_;
  FrameEditOptions options_;
  std::vector<std::unique_ptr<data::ShardSet>> sets_;
  std::map<std::string, Location> frames_;  // "world/variation/frame" -> where
};

}  // namespace sdn::train

// `sdn predict` of the derenderer stage, as the original's main.py _test: per frame, every Car/Van object of
// interest (more than 16^2 mask pixels) is derendered from its ROI, posed and rendered in the test-time view (the
// object fills the render), and the renders are pasted back into the frame far to near. The objects come from
// derender.predict_boxes (derender_objects.hpp): gt (instance masks, tight boxes) or maskrcnn (a Mask R-CNN run's
// detections, their boxes). Writes under OUT/<world>/<variation>/: NNNNN.json (per object, keyed by row + 1 or
// detection id: class, depth, alpha, plus the full 3D attributes `sdn edit` and the textural branch use), NNNNN.png
// (8-bit instance map of those keys, 0 = none; objects not derendered keep their masks), NNNNN-normal.png (RGB,
// (n / 2 + 0.5) * 255, background 0.5) and NNNNN-depth.png (uint16, min(depth * zoom / 100, 1) * 65535,
// background 65535). docs/data-format.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/derender_targets.hpp"
#include "data/image_io.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/mpi_session.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/raster_maps.hpp"
#include "train/stages/derender_objects.hpp"
#include "train/scene_render.hpp"
#include "train/stages/derender_stage.hpp"

namespace sdn::train {
namespace {

namespace md = models::derender;
namespace dd = data::derender;

std::vector<double> row_of(const torch::Tensor& t, int64_t r) {
  const auto c = t[r].to(torch::kCPU, torch::kDouble).contiguous().flatten();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

std::string DerenderStage::predict(const data::ShardSet& set, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  if (options_.predict_boxes == "maskrcnn" && !std::filesystem::is_directory(options_.detections))
    throw UsageError("derender.detections: " + options_.detections + " is not a directory",
                     "point it at the --out directory of `sdn predict` of a Mask R-CNN run on the same split");
  torch::NoGradGuard no_grad;
  model_->eval();
  std::vector<std::int64_t> indices = options.indices;
  if (indices.empty())
    for (std::int64_t i = 0; i < (options.limit > 0 ? std::min(options.limit, set.size()) : set.size()); ++i)
      indices.push_back(i);
  const auto mine = data::eval_range(static_cast<std::int64_t>(indices.size()), comm.rank(), comm.size());
  data::img::Palette grey;
  for (int v = 0; v < 256; ++v) grey.push_back({std::uint8_t(v), std::uint8_t(v), std::uint8_t(v)});
  const int64_t S = options_.render_size;
  std::int64_t objects_written = 0;
  data::Sample s;
  for (std::int64_t k = mine.begin; k < mine.end; ++k) {
    const auto fi = indices[static_cast<size_t>(k)];
    if (fi < 0 || fi >= set.size())
      throw UsageError("--indices: " + std::to_string(fi) + " is outside the split's " + std::to_string(set.size()) + " samples");
    set.read(fi, fields(), s);
    const auto info = set.info(fi);
    const int W = s.width, H = s.height;
    const auto objects = options_.predict_boxes == "maskrcnn"
                             ? detected_objects(options_.detections, info.world, info.variation, info.frame, W, H)
                             : gt_objects(s);
    std::vector<size_t> derendered;  // indices into `objects`
    std::vector<dd::Roi> rois;
    for (size_t j = 0; j < objects.size(); ++j)
      if (objects[j].interest) derendered.push_back(j), rois.push_back(objects[j].roi);
    FrameMaps out = blank_frame_maps(W, H);
    auto& instance = out.instance;
    // Objects not derendered keep their masks in the instance map (the original paints them in its far-to-near
    // pass by predicted depth; they have none here, so they go first).
    for (const auto& o : objects)
      if (!o.interest)
        for (size_t p = 0; p < o.mask.size(); ++p)
          if (o.mask[p]) instance.pixels[p] = static_cast<std::uint8_t>(std::min(255, o.key));
    nlohmann::json json = nlohmann::json::object();
    const auto b = crop_batch(s, rois);
    if (b.size() > 0) {
      auto f = forward(b, /*render=*/false, {});
      const auto pose = md::decode_pose(f.out, f.mroi, f.droi);
      const auto choice = md::choose_meshes(f.out, {});
      const auto ro = md::ReprojectOptions().render_size(S).fit(true).silhouette(md::SilhouetteOptions().sigma(options_.sigma));
      const auto rep = md::reproject(bank_, f.out, pose, choice, f.mroi, f.droi, b.focals, ro);
      const auto maps = md::render_depth_normal(rep.vertices, rep.faces, rep.tan_halfs, md::RasterMapsOptions().image_size(S));
      const auto masks = rep.masks.to(torch::kCPU).contiguous();
      const auto dmap = maps.depth.to(torch::kCPU).contiguous();
      const auto nmap = maps.normal.to(torch::kCPU).contiguous();
      const auto depths = pose.depths.to(torch::kCPU);
      std::vector<int64_t> order(static_cast<size_t>(b.size()));
      for (int64_t i = 0; i < b.size(); ++i) order[static_cast<size_t>(i)] = i;
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t c) { return depths[a][0].item<float>() > depths[c][0].item<float>(); });
      const double fx = s.K.fx, u0 = s.K.cx, v0 = s.K.cy;
      for (int64_t i : order) {
        const auto& obj = objects[derendered[static_cast<size_t>(b.items[static_cast<size_t>(i)])]];
        const double zoom = rep.zooms[i][0].item<double>();
        const auto c2d = row_of(pose.center2ds, i);
        paste_render(out, masks, dmap, nmap, i, zoom, c2d[0] * fx + v0, c2d[1] * fx + u0, obj.key);
        const auto ffd = f.out.ffd_coeffs[i][choice.index[i].item<int64_t>()];
        auto& entry = json[std::to_string(obj.key)];
        entry = {
            {"class_id", obj.class_id},
            {"depth", depths[i][0].item<double>()},
            {"alpha", pose.alphas[i][0].item<double>()},
            {"theta", pose.thetas[i][0].item<double>()},
            {"rotation", row_of(pose.rotations, i)},
            {"translation", row_of(pose.translations, i)},
            {"scale", row_of(pose.scales, i)},
            {"center2d", {c2d[0] * fx + v0, c2d[1] * fx + u0}},
            {"zoom", zoom},
            {"mesh", choice.index[i].item<int64_t>()},
            {"mesh_name", mesh_names_.at(static_cast<size_t>(choice.index[i].item<int64_t>()))},
            {"ffd_coeffs", row_of(ffd.unsqueeze(0), 0)}};
        if (obj.track_id >= 0) entry["track_id"] = obj.track_id;
        if (obj.score >= 0) entry["score"] = obj.score, entry["box"] = obj.roi;
        ++objects_written;
      }
    }
    const std::string dir = options.out + "/" + info.world + "/" + info.variation;
    fs::ensure_writable_dir(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%05d", info.frame);
    const std::string base = dir + "/" + name;
    fs::write_atomic(base + ".json", json.dump(4) + "\n");
    data::img::write_png_palette(base + ".png", instance, grey);
    data::img::write_png_rgb8(base + "-normal.png", out.normal);
    data::img::write_png_gray16(base + "-depth.png", out.depth);
  }
  return "derendered " + std::to_string(objects_written) + " object(s) (rank " + std::to_string(comm.rank()) + ") of " +
         std::to_string(indices.size()) + " frame(s) from " +
         (options_.predict_boxes == "maskrcnn" ? "the detections in " + options_.detections : std::string("ground truth")) +
         " into " + options.out;
}

}  // namespace sdn::train

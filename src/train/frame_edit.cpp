// Implements `sdn edit` and its benchmark (see frame_edit.hpp). The textural inputs of the edited frame follow
// edit_vkitti.py: the label map's Car and Van pixels become Road, then every pixel of a derendered object of the
// edited instance map takes that object's class; the instance codes come from netE on the source image with
// the source's (predicted) instance map, looked up by instance id in the edited map.
#include "train/frame_edit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
#include "models/textural/image_metrics.hpp"
#include "models/textural/textural_inputs.hpp"
#include "models/derender/derenderer.hpp"
#include "train/config.hpp"
#include "train/stage_registry.hpp"
#include "train/stages/derender_stage.hpp"
#include "train/stages/textural_stage.hpp"
#include "train/run_config.hpp"

namespace sdn::train {
namespace {

namespace tx = models::textural;

std::string frame_key(const std::string& world, const std::string& variation, int frame) {
  char f[16];
  std::snprintf(f, sizeof f, "%05d", frame);
  return world + "/" + variation + "/" + f;
}

// util.tensor2im: (x + 1) / 2 * 255, clipped, truncated to uint8; [3,H,W] -> interleaved RGB.
data::img::Image8 to_image(const torch::Tensor& image) {
  auto x = ((image.to(torch::kCPU, torch::kFloat) + 1) / 2.0 * 255.0).clamp(0, 255).to(torch::kUInt8);
  x = x.permute({1, 2, 0}).contiguous();
  return {static_cast<int>(x.size(1)), static_cast<int>(x.size(0)), 3,
          std::vector<std::uint8_t>(x.data_ptr<std::uint8_t>(), x.data_ptr<std::uint8_t>() + x.numel())};
}

data::img::Image8 strip_of(const std::vector<const data::img::Image8*>& parts) {
  const int w = parts[0]->width, h = parts[0]->height, n = static_cast<int>(parts.size());
  data::img::Image8 s{n * w, h, 3, std::vector<std::uint8_t>(static_cast<size_t>(n) * w * h * 3)};
  for (int k = 0; k < n; ++k)
    for (int y = 0; y < h; ++y)
      std::copy_n(&parts[static_cast<size_t>(k)]->pixels[static_cast<size_t>(y) * w * 3], static_cast<size_t>(w) * 3,
                  &s.pixels[(static_cast<size_t>(y) * n * w + static_cast<size_t>(k) * w) * 3]);
  return s;
}

void check_size(const std::string& path, int w, int h, const data::Sample& s) {
  if (w != s.width || h != s.height)
    throw UsageError(path + " is " + std::to_string(w) + "x" + std::to_string(h) + ", the frame " +
                         std::to_string(s.width) + "x" + std::to_string(s.height),
                     "use the derender predictions of the same shards (--geometric, --data.shards)");
}

const data::Fields& edit_fields() {
  static const data::Fields f = [] {
    data::Fields x;
    x.rgb = x.classes = x.instance = x.objects = true;
    x.depth = false;
    return x;
  }();
  return f;
}

}  // namespace

models::derender::MeshBank derender_run_meshes(const std::string& run_dir, const std::string& geometric_dir,
                                               SceneRenderOptions& render) {
  namespace sfs = std::filesystem;
  std::string dir = run_dir;
  if (dir.empty()) {
    const auto up = sfs::path(geometric_dir).lexically_normal().parent_path();
    if (!sfs::exists(up / "run.ini"))
      throw UsageError("--geometric " + geometric_dir + " is not inside a derender run, so its meshes are unknown",
                       "pass --derender-run RUN, the run whose `sdn predict` wrote it");
    dir = up.string();
  }
  if (!sfs::exists(dir + "/run.ini"))
    throw UsageError("--derender-run: " + dir + "/run.ini does not exist", "pass a run directory written by `sdn train`");
  const auto config = parse_run_config(dir).config;
  if (config.stage != "derender")
    throw UsageError("--derender-run " + dir + " is a `" + config.stage + "` run, not a derender one",
                     "pass the derender run whose `sdn predict` wrote --geometric");
  const auto& d = stage_options<DerenderOptions>(config);
  render.render_size = d.render_size;
  render.sigma = d.sigma;
  return derender_mesh_bank(d, models::derender::DerendererOptions().grid_size());
}

FrameEditor::FrameEditor(Stage& textural, const std::string& run_dir, models::derender::MeshBank bank,
                         FrameEditOptions options)
    : stage_(dynamic_cast<TexturalStage*>(&textural)), bank_(std::move(bank)), options_(std::move(options)) {
  if (!stage_)
    throw UsageError("--textural-run " + run_dir + " is a `" + textural.name() + "` run, not a textural one",
                     "pass a run trained with stage = textural (configs/textural*.ini)");
  namespace sfs = std::filesystem;
  if (!sfs::is_directory(options_.geometric_dir))
    throw UsageError("--geometric: " + options_.geometric_dir + " is not a directory",
                     "pass the `sdn predict --out` directory of a derender run");
  std::vector<std::string> splits;
  if (sfs::is_directory(options_.shards))
    for (const auto& e : sfs::directory_iterator(options_.shards)) {
      const auto name = e.path().filename().string();
      const std::string tail = "-index.json";
      if (name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0)
        splits.push_back(name.substr(0, name.size() - tail.size()));
    }
  std::sort(splits.begin(), splits.end());
  if (splits.empty())
    throw UsageError("--data.shards: no <split>-index.json in '" + options_.shards + "'",
                     "pass the shards the runs were trained on (sdn pack), or leave it to the textural run's run.ini");
  for (const auto& split : splits) {
    sets_.push_back(std::make_unique<data::ShardSet>(options_.shards, split));
    const auto* set = sets_.back().get();
    for (std::int64_t i = 0; i < set->size(); ++i) {
      const auto info = set->info(i);
      frames_.emplace(frame_key(info.world, info.variation, info.frame), Location{set, i});
    }
  }
}

FrameEditor::~FrameEditor() = default;

std::optional<FrameEditor::Location> FrameEditor::locate(const std::string& world, const std::string& variation,
                                                         int frame) const {
  auto it = frames_.find(frame_key(world, variation, frame));
  if (it == frames_.end()) return std::nullopt;
  return it->second;
}

std::string FrameEditor::prediction_base(const EditEntry& e) const {
  return options_.geometric_dir + "/" + frame_key(e.world, e.variation, e.source);
}

EditEntry FrameEditor::busiest_frame() const {
  EditEntry best;
  long most = 0;
  for (const auto& [key, loc] : frames_) {
    const auto info = loc.set->info(loc.index);
    const std::string base = options_.geometric_dir + "/" + key;
    if (!std::filesystem::exists(base + ".json") || !std::filesystem::exists(base + ".png")) continue;
    const auto scene = scene_from_json(fs::read_file(base + ".json"), base + ".json");
    std::map<int, long> count;
    for (auto v : data::img::read_png_indices(base + ".png").pixels)
      if (v && scene.objects.count(v)) ++count[v];
    for (const auto& [id, n] : count)
      if (n > most) most = n, best.world = info.world, best.variation = info.variation, best.source = info.frame;
  }
  if (most == 0)
    throw UsageError("--frame auto: no frame of the shards has a visible derendered object in " + options_.geometric_dir,
                     "run `sdn predict` of the derender run on these shards, or name the frame");
  return best;
}

std::string FrameEditor::uncovered(const EditEntry& e) const {
  if (!locate(e.world, e.variation, e.source))
    return "frame " + frame_key(e.world, e.variation, e.source) + " is not in the shards " + options_.shards;
  if (e.target >= 0 && !locate(e.world, e.variation, e.target))
    return "target frame " + frame_key(e.world, e.variation, e.target) + " is not in the shards " + options_.shards;
  for (const char* ext : {".json", ".png", "-normal.png"})
    if (!std::filesystem::exists(prediction_base(e) + ext))
      return "no derenderer prediction " + prediction_base(e) + ext;
  return "";
}

EditOutcome FrameEditor::edit(const EditEntry& entry, const std::string& dir) {
  if (auto why = uncovered(entry); !why.empty())
    throw UsageError(why, "edit a frame of the shards that `sdn predict` of the derender run covered (its --split, "
                          "--samples or --indices), or predict that frame first");
  const auto loc = *locate(entry.world, entry.variation, entry.source);
  data::Sample s;
  loc.set->read(loc.index, edit_fields(), s);
  const auto info = loc.set->info(loc.index);
  const std::string base = prediction_base(entry);
  const Scene predicted = scene_from_json(fs::read_file(base + ".json"), base + ".json");
  Scene scene = predicted;
  EditFrame ef;
  ef.K = s.K;
  for (size_t r = 0; r < s.objects.size(); ++r) {
    // The box of the object's ground-truth mask (main.py matches "from" to the mask ROI centre).
    const auto id = static_cast<std::uint16_t>(s.objects[r].track_id + 1);
    int x0 = s.width, y0 = s.height, x1 = -1, y1 = -1;
    for (int y = 0; y < s.height; ++y)
      for (int x = 0; x < s.width; ++x)
        if (s.instance[static_cast<size_t>(y) * s.width + x] == id)
          x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    if (x1 >= 0) ef.box_centres[static_cast<int>(r) + 1] = {(x0 + x1 + 1) / 2.0, (y0 + y1 + 1) / 2.0};
  }
  const auto inst = data::img::read_png_indices(base + ".png");
  check_size(base + ".png", inst.width, inst.height, s);
  for (auto v : inst.pixels)
    if (v) ++ef.visible_pixels[v];
  EditOutcome out;
  out.applied = apply_edits(scene, entry.edits, ef);
  auto maps = render_scene(scene, bank_, options_.render, s);

  // The textural inputs of the source (as the run saw such frames) and of the edited frame.
  const auto& to = stage_->options();
  const bool with_objects = to.inputs == "groundtruth" || !to.geometric_dir.empty();
  const bool with_normals = to.inputs == "predicted" && !to.geometric_dir.empty();
  TexturalPlanes before;
  before.width = s.width, before.height = s.height;
  before.rgb = s.rgb;
  before.labels = stage_->frame_labels(s, &info, options_.semantic_dir);
  before.objects_are_labels = !with_objects;
  TexturalPlanes after = before;
  std::map<int, int> class_of;
  for (const auto& [id, o] : scene.objects)
    if (!o.deleted) class_of[id] = o.class_id, after.alpha_of[id] = o.alpha;
  for (const auto& [id, o] : predicted.objects) before.alpha_of[id] = o.alpha;
  for (size_t p = 0; p < after.labels.size(); ++p) {
    auto& l = after.labels[p];
    auto it = class_of.find(maps.instance.pixels[p]);
    if (it != class_of.end()) l = static_cast<std::uint8_t>(it->second);
    else if (maps.instance.pixels[p] == 0 && (l == tx::kCarLabel || l == tx::kVanLabel))
      l = static_cast<std::uint8_t>(tx::kRoadLabel);
  }
  if (with_objects) {
    before.objects.assign(inst.pixels.begin(), inst.pixels.end());
    after.objects.assign(maps.instance.pixels.begin(), maps.instance.pixels.end());
  }
  if (with_normals) {
    auto normal = data::img::read_png_rgb8(base + "-normal.png");
    check_size(base + "-normal.png", normal.width, normal.height, s);
    before.normals = std::move(normal.pixels);
    after.normals = maps.normal.pixels;
  }
  const auto src = stage_->scale_and_crop(std::move(before), nullptr);
  const auto dst = stage_->scale_and_crop(std::move(after), nullptr);
  const auto src_batch = stage_->batch({src}), dst_batch = stage_->batch({dst});
  const auto fake = stage_->generate_edited(src_batch, dst_batch, &out.missing);
  const auto edited = to_image(fake[0]);
  const data::img::Image8 source{src.width, src.height, 3, src.rgb};
  out.width = edited.width, out.height = edited.height;

  char name[96];
  std::snprintf(name, sizeof name, "%s_%s_%05d", entry.world.c_str(), entry.variation.c_str(), entry.source);
  out.name = name;
  std::vector<const data::img::Image8*> strip = {&source, &edited};
  data::img::Image8 target;
  if (entry.target >= 0) {
    const auto tl = *locate(entry.world, entry.variation, entry.target);
    data::Sample t;
    tl.set->read(tl.index, edit_fields(), t);
    TexturalPlanes tp;
    tp.width = t.width, tp.height = t.height;
    tp.rgb = t.rgb;
    tp.labels.assign(t.rgb.size() / 3, 0);
    tp.objects_are_labels = true;
    const auto cropped = stage_->scale_and_crop(std::move(tp), nullptr);
    const auto real = stage_->batch({cropped}).real;
    out.has_target = true;
    out.metrics.l1 = tx::l1_error(fake, real).item<double>();
    out.metrics.psnr = tx::psnr(fake, real).item<double>();
    out.metrics.ssim = tx::ssim(fake, real).item<double>();
    target = {cropped.width, cropped.height, 3, cropped.rgb};
    strip.push_back(&target);
    char tail[16];
    std::snprintf(tail, sizeof tail, "-%05d", entry.target);
    out.name += tail;
  }
  fs::ensure_writable_dir(dir);
  data::img::write_png_rgb8(dir + "/" + out.name + ".png", edited);
  data::img::write_png_rgb8(dir + "/" + out.name + "_strip.png", strip_of(strip));
  // The edited maps as a derender prediction, under the target's number as the original's edit directory.
  const std::string gdir = dir + "/geometric/" + entry.world + "/" + entry.variation;
  fs::ensure_writable_dir(gdir);
  char frame[16];
  std::snprintf(frame, sizeof frame, "%05d", entry.target >= 0 ? entry.target : entry.source);
  const std::string gbase = gdir + "/" + frame;
  fs::write_atomic(gbase + ".json", scene_to_json(scene));
  data::img::Palette grey;
  for (int v = 0; v < 256; ++v) grey.push_back({std::uint8_t(v), std::uint8_t(v), std::uint8_t(v)});
  data::img::write_png_palette(gbase + ".png", maps.instance, grey);
  data::img::write_png_rgb8(gbase + "-normal.png", maps.normal);
  data::img::write_png_gray16(gbase + "-depth.png", maps.depth);
  return out;
}

std::string FrameEditor::benchmark(const std::vector<EditEntry>& entries) {
  nlohmann::json rows = nlohmann::json::array();
  std::ostringstream table;
  struct Mean {
    double l1 = 0, psnr = 0, ssim = 0;
    int n = 0, finite = 0;
  } means[2];  // edits, reconstructions
  int skipped = 0;
  char line[256];
  std::snprintf(line, sizeof line, "%5s  %-6s %-13s %6s %6s  %-6s %9s %9s %7s\n", "entry", "world", "variation",
                "source", "target", "kind", "L1", "PSNR", "SSIM");
  table << line;
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& e = entries[k];
    nlohmann::json row = {{"entry", k}, {"world", e.world}, {"variation", e.variation}, {"source", e.source},
                          {"target", e.target}};
    const bool recon = e.target < 0 || e.target == e.source;
    row["kind"] = recon ? "reconstruction" : "edit";
    if (auto why = uncovered(e); !why.empty()) {
      spdlog::warn("benchmark entry {} skipped: {}", k, why);
      row["skipped"] = why;
      rows.push_back(row);
      ++skipped;
      continue;
    }
    const auto r = edit(e, options_.out + "/benchmark");
    auto& m = means[recon ? 1 : 0];
    m.l1 += r.metrics.l1, m.ssim += r.metrics.ssim, ++m.n;
    if (std::isfinite(r.metrics.psnr)) m.psnr += r.metrics.psnr, ++m.finite;
    row["L1"] = r.metrics.l1;
    row["PSNR"] = std::isfinite(r.metrics.psnr) ? nlohmann::json(r.metrics.psnr) : nlohmann::json("inf");
    row["SSIM"] = r.metrics.ssim;
    row["applied"] = r.applied;
    row["image"] = "benchmark/" + r.name + ".png";
    rows.push_back(row);
    std::snprintf(line, sizeof line, "%5zu  %-6s %-13s %6.5d %6.5d  %-6s %9.5f %9.3f %7.4f\n", k, e.world.c_str(),
                  e.variation.c_str(), e.source, e.target, recon ? "recon" : "edit", r.metrics.l1, r.metrics.psnr,
                  r.metrics.ssim);
    table << line;
  }
  nlohmann::json j = {{"entries", rows}, {"skipped", skipped}};
  const char* kinds[2] = {"edit", "reconstruction"};
  table << "\n";
  for (int i = 0; i < 2; ++i) {
    const auto& m = means[i];
    const double l1 = m.n ? m.l1 / m.n : NAN, ssim = m.n ? m.ssim / m.n : NAN;
    const double psnr = m.finite ? m.psnr / m.finite : NAN;
    j[kinds[i]] = {{"entries", m.n}, {"L1", m.n ? nlohmann::json(l1) : nlohmann::json()},
                   {"PSNR", m.finite ? nlohmann::json(psnr) : nlohmann::json()},
                   {"SSIM", m.n ? nlohmann::json(ssim) : nlohmann::json()}};
    std::snprintf(line, sizeof line, "mean over %-15s (%3d): L1 %.5f  PSNR %.3f dB  SSIM %.4f\n", kinds[i], m.n, l1,
                  psnr, ssim);
    table << line;
  }
  std::snprintf(line, sizeof line, "%zu entries, %zu run, %d skipped (frames the shards or predictions do not cover)\n",
                entries.size(), entries.size() - static_cast<size_t>(skipped), skipped);
  table << line
        << "L1 in [-1, 1] units (edit_benchmark.py); PSNR, SSIM on [0, 1]. The paper's LPIPS is not computed: it needs "
           "downloaded network weights.\n";
  fs::ensure_writable_dir(options_.out);
  fs::write_atomic(options_.out + "/benchmark.txt", table.str());
  fs::write_atomic(options_.out + "/benchmark.json", j.dump(2) + "\n");
  return table.str();
}

}  // namespace sdn::train

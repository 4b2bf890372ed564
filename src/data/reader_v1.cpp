// Implements the vKITTI 1.3.1 reader (see reader_v1.hpp). motgt rows labelled DontCare are skipped: they mark
// regions to ignore, not objects, and ObjectGT has no field for them.
#include "data/reader_v1.hpp"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "core/error.hpp"
#include "data/vkitti_paths.hpp"

namespace sdn::data {
namespace {

namespace stdfs = std::filesystem;

const char* kV1 = "the vKITTI 1.3.1 layout";

std::string archive_of(const char* folder) {
  const std::string f = folder;
  const bool gz = f == paths::kV1MotGt || f == paths::kV1Extrinsics;
  return f + (gz ? ".tar.gz" : ".tar");
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_dir(const std::string& p) {
  std::error_code ec;
  return stdfs::is_directory(p, ec);
}

const std::vector<std::string>& motgt_columns() {
  static const std::vector<std::string> cols = {
      "frame", "tid", "label", "truncated", "occluded", "alpha", "l", "t", "r", "b", "w3d", "h3d", "l3d",
      "x3d", "y3d", "z3d", "ry", "rx", "rz", "truncr", "occupr", "orig_label", "moving", "model", "color"};
  return cols;
}

}  // namespace

ReaderV1::ReaderV1(std::string root) : root_(std::move(root)) {
  std::vector<std::string> missing;
  for (const char* m : {paths::kV1Rgb, paths::kV1SceneGt, paths::kV1DepthGt, paths::kV1MotGt})
    if (!is_dir(root_ + "/" + m)) missing.push_back(root_ + "/" + m + "/  (from " + archive_of(m) + ")");
  if (missing.empty()) {
    for (const auto& w : subdirs(root_ + "/" + paths::kV1Rgb))
      for (const auto& v : subdirs(root_ + "/" + paths::kV1Rgb + "/" + w)) {
        sequences_.emplace_back(w, v);
        for (const char* m : {paths::kV1SceneGt, paths::kV1DepthGt})
          if (!is_dir(paths::v1_image_dir(root_, m, w, v)))
            missing.push_back(paths::v1_image_dir(root_, m, w, v) + "/  (from " + archive_of(m) + ")");
        std::error_code ec;
        if (!stdfs::is_regular_file(paths::v1_encoding(root_, w, v), ec))
          missing.push_back(paths::v1_encoding(root_, w, v) + "  (from " + archive_of(paths::kV1SceneGt) + ")");
        if (!stdfs::is_regular_file(paths::v1_motgt(root_, w, v), ec))
          missing.push_back(paths::v1_motgt(root_, w, v) + "  (from " + archive_of(paths::kV1MotGt) + ")");
      }
  }
  if (missing.empty()) return;
  std::string msg = root_ + ": incomplete vKITTI 1.3.1 tree; missing:";
  for (size_t i = 0; i < missing.size() && i < 10; ++i) msg += "\n  " + missing[i];
  if (missing.size() > 10) msg += "\n  ... and " + std::to_string(missing.size() - 10) + " more";
  throw Error(msg, "extract the named archives into " + root_ +
                       " (1.3.1 keeps one folder per modality: vkitti_1.3.1_rgb/<world>/<variation>/00000.png, ...)");
}

std::vector<FrameRef> ReaderV1::list_frames(int camera) const {
  if (camera != 0)
    throw UsageError("camera " + std::to_string(camera) + ": vKITTI 1.3.1 (" + root_ + ") has one camera, 0",
                     "camera 1 needs the vKITTI 2.0.3 layout");
  std::vector<FrameRef> out;
  for (const auto& [w, v] : sequences_) {
    std::error_code ec;
    const std::string dir = paths::v1_image_dir(root_, paths::kV1Rgb, w, v);
    for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const int n = paths::frame_number(it->path().filename().string(), "", "png");
      if (n >= 0) out.push_back({w, v, n, 0});
    }
  }
  std::sort(out.begin(), out.end(), [](const FrameRef& a, const FrameRef& b) {
    return std::tie(a.world, a.variation, a.index) < std::tie(b.world, b.variation, b.index);
  });
  return out;
}

ReaderV1::Sequence ReaderV1::parse_sequence(const std::string& world, const std::string& variation) const {
  Sequence s;
  const std::string hint_scenegt = std::string(kV1) + ": extract " + archive_of(paths::kV1SceneGt);
  s.colors = detail::read_color_table(
      TextTable::read(paths::v1_encoding(root_, world, variation), {"Category(:id)", "r", "g", "b"}, hint_scenegt),
      "Category(:id)", /*instances=*/true);

  const TextTable mot = TextTable::read(paths::v1_motgt(root_, world, variation), motgt_columns(),
                                        std::string(kV1) + ": extract " + archive_of(paths::kV1MotGt));
  auto col = [&](const char* name) { return mot.column(name); };
  const size_t c_frame = col("frame"), c_tid = col("tid"), c_label = col("label"), c_alpha = col("alpha"),
               c_l = col("l"), c_t = col("t"), c_r = col("r"), c_b = col("b"), c_w = col("w3d"), c_h = col("h3d"),
               c_len = col("l3d"), c_x = col("x3d"), c_y = col("y3d"), c_z = col("z3d"), c_ry = col("ry"),
               c_tr = col("truncr"), c_oc = col("occupr"), c_mv = col("moving");
  for (size_t row = 0; row < mot.rows(); ++row) {
    if (mot.text(row, c_label) == "DontCare") continue;
    ObjectGT o;
    const int frame = mot.to_int(row, c_frame);
    if (frame < 0) mot.fail(row, c_frame, "negative frame number");
    o.track_id = mot.to_int(row, c_tid);
    if (o.track_id < 0) mot.fail(row, c_tid, "negative track id");
    const auto cls = class_id(mot.text(row, c_label));
    o.class_id = cls ? *cls : kUnlabelled;
    o.alpha = mot.to_float(row, c_alpha);
    o.left = mot.to_float(row, c_l), o.top = mot.to_float(row, c_t);
    o.right = mot.to_float(row, c_r), o.bottom = mot.to_float(row, c_b);
    o.width3d = mot.to_float(row, c_w), o.height3d = mot.to_float(row, c_h), o.length3d = mot.to_float(row, c_len);
    o.x3d = mot.to_float(row, c_x), o.y3d = mot.to_float(row, c_y), o.z3d = mot.to_float(row, c_z);
    o.rotation_y = mot.to_float(row, c_ry);
    o.truncation = mot.to_float(row, c_tr), o.occupancy = mot.to_float(row, c_oc);
    o.moving = mot.to_bool(row, c_mv);
    s.objects[frame].push_back(o);
  }

  const std::string rgb_dir = paths::v1_image_dir(root_, paths::kV1Rgb, world, variation);
  const int first = detail::first_frame_in(rgb_dir, "", "png");
  if (first < 0) throw Error(rgb_dir + ": no frames (expected 00000.png, 00001.png, ...)");
  s.first_frame = paths::v1_image(root_, paths::kV1Rgb, world, variation, first);
  const img::ImageSize size = img::read_image_size(s.first_frame);
  s.width = size.width, s.height = size.height;
  return s;
}

Frame ReaderV1::load(const FrameRef& ref) const {
  if (ref.camera != 0) list_frames(ref.camera);  // throws the one-camera error
  const auto seq = cache_.get(ref.world + "/" + ref.variation, [&] { return parse_sequence(ref.world, ref.variation); });
  Frame f;
  f.world = ref.world, f.variation = ref.variation, f.index = ref.index, f.camera = 0;

  auto path = [&](const char* m) { return paths::v1_image(root_, m, ref.world, ref.variation, ref.index); };
  auto expect = [&](const char* m, const char* what) {
    detail::require_file(path(m),
                         std::string(kV1) + " keeps " + what + " of every frame in " + m +
                             "/<world>/<variation>/<frame>.png",
                         "extract " + archive_of(m) + " into " + root_);
  };
  expect(paths::kV1Rgb, "the RGB image");
  const std::string rgb_path = path(paths::kV1Rgb);
  img::Image8 rgb = img::read_png_rgb8(rgb_path);
  detail::check_size(rgb_path, rgb.width, rgb.height, seq->width, seq->height, seq->first_frame,
                     "the sequence's first frame");
  f.width = rgb.width, f.height = rgb.height;
  f.rgb = std::move(rgb.pixels);

  expect(paths::kV1SceneGt, "the class/instance labels");
  const std::string gt_path = path(paths::kV1SceneGt);
  const img::Image8 gt = img::read_png_rgb8(gt_path);
  detail::check_size(gt_path, gt.width, gt.height, f.width, f.height, rgb_path, "the RGB frame");
  detail::decode_labels(gt, gt_path, seq->colors, /*with_instances=*/true, f);

  expect(paths::kV1DepthGt, "the depth");
  const std::string depth_path = path(paths::kV1DepthGt);
  img::Image16 depth = img::read_png_gray16(depth_path);
  detail::check_size(depth_path, depth.width, depth.height, f.width, f.height, rgb_path, "the RGB frame");
  f.depth = std::move(depth.pixels);

  auto it = seq->objects.find(ref.index);
  if (it != seq->objects.end()) f.objects = it->second;
  f.K = vkitti1_intrinsics(f.width, f.height);
  return f;
}

}  // namespace sdn::data

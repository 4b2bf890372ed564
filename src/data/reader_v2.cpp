// Implements the vKITTI 2.0.3 reader (see reader_v2.hpp). bbox.txt drives the object list (the visible
// objects of a frame and camera); each of its rows must have a pose.txt row and an info.txt track, so a
// half-extracted textgt archive is an error, not a frame with fewer objects. pose.txt camera_space_* is taken as
// the bottom-face centre, as in 1.3.1 motgt (reference §6 porting note).
#include "data/reader_v2.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/error.hpp"
#include "data/vkitti.hpp"
#include "data/vkitti_paths.hpp"

namespace sdn::data {
namespace {

namespace stdfs = std::filesystem;

const char* kV2 = "the vKITTI 2.0.3 layout";
constexpr const char* kTextArchive = "vkitti_2.0.3_textgt.tar.gz";
constexpr const char* kRequiredText[] = {"colors.txt", "bbox.txt", "pose.txt", "info.txt", "intrinsic.txt"};
const paths::V2Modality* const kModalities[] = {&paths::kV2Rgb, &paths::kV2Depth, &paths::kV2Class,
                                                &paths::kV2Instance};

std::string archive_of(const paths::V2Modality& m) { return std::string("vkitti_2.0.3_") + m.folder + ".tar"; }

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool exists(const std::string& p) {
  std::error_code ec;
  return stdfs::exists(p, ec);
}

}  // namespace

ReaderV2::ReaderV2(std::string root) : root_(std::move(root)) {
  std::vector<std::string> missing;
  for (const auto& scene : subdirs(root_)) {
    if (scene.rfind("Scene", 0) != 0) continue;
    const std::string world = world_from_scene(scene);
    for (const auto& v : subdirs(root_ + "/" + scene)) {
      sequences_.emplace_back(world, v);
      for (int cam = 0; cam < 2; ++cam) {
        if (cam == 1 && !exists(paths::v2_image_dir(root_, paths::kV2Rgb, world, v, 1))) continue;
        for (const auto* m : kModalities) {
          const std::string dir = paths::v2_image_dir(root_, *m, world, v, cam);
          if (!exists(dir)) missing.push_back(dir + "/  (from " + archive_of(*m) + ")");
        }
      }
      for (const char* t : kRequiredText)
        if (!exists(paths::v2_text(root_, world, v, t)))
          missing.push_back(paths::v2_text(root_, world, v, t) + "  (from " + kTextArchive + ")");
    }
  }
  if (missing.empty()) return;
  std::string msg = root_ + ": incomplete vKITTI 2.0.3 tree; missing:";
  for (size_t i = 0; i < missing.size() && i < 10; ++i) msg += "\n  " + missing[i];
  if (missing.size() > 10) msg += "\n  ... and " + std::to_string(missing.size() - 10) + " more";
  throw Error(msg, "extract the named archives into " + root_ +
                       " (2.0.3 nests Scene<NN>/<variation>/frames/<modality>/Camera_<k>/, text files in "
                       "Scene<NN>/<variation>/)");
}

std::vector<FrameRef> ReaderV2::list_frames(int camera) const {
  if (camera != 0 && camera != 1)
    throw UsageError("camera " + std::to_string(camera) + ": vKITTI 2.0.3 has cameras 0 (left) and 1 (right)");
  std::vector<FrameRef> out;
  for (const auto& [w, v] : sequences_) {
    std::error_code ec;
    const std::string dir = paths::v2_image_dir(root_, paths::kV2Rgb, w, v, camera);
    for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const int n = paths::frame_number(it->path().filename().string(), "rgb_", "jpg");
      if (n >= 0) out.push_back({w, v, n, camera});
    }
  }
  std::sort(out.begin(), out.end(), [](const FrameRef& a, const FrameRef& b) {
    return std::tie(a.world, a.variation, a.index) < std::tie(b.world, b.variation, b.index);
  });
  return out;
}

ReaderV2::Sequence ReaderV2::parse_sequence(const std::string& world, const std::string& variation) const {
  Sequence s;
  const std::string hint = std::string(kV2) + ": extract " + kTextArchive;
  auto text = [&](const char* f) { return paths::v2_text(root_, world, variation, f); };
  s.colors = detail::read_color_table(TextTable::read(text("colors.txt"), {"Category", "r", "g", "b"}, hint),
                                      "Category", /*instances=*/false);

  const TextTable info = TextTable::read(text("info.txt"), {"trackID", "label", "model", "color"}, hint);
  std::map<int, int> class_of_track;
  for (size_t row = 0; row < info.rows(); ++row) {
    const int tid = info.to_int(row, info.column("trackID"));
    const auto cls = class_id(info.text(row, info.column("label")));
    if (!class_of_track.emplace(tid, cls ? *cls : kUnlabelled).second)
      info.fail(row, info.column("trackID"), "track " + std::to_string(tid) + " is listed twice");
  }

  const TextTable pose = TextTable::read(
      text("pose.txt"),
      {"frame", "cameraID", "trackID", "alpha", "width", "height", "length", "camera_space_X", "camera_space_Y",
       "camera_space_Z", "rotation_camera_space_y"},
      hint);
  std::map<std::tuple<int, int, int>, size_t> pose_row;  // (frame, camera, track) -> row
  const size_t p_frame = pose.column("frame"), p_cam = pose.column("cameraID"), p_tid = pose.column("trackID");
  for (size_t row = 0; row < pose.rows(); ++row)
    pose_row[{pose.to_int(row, p_frame), pose.to_int(row, p_cam), pose.to_int(row, p_tid)}] = row;

  const TextTable bbox = TextTable::read(
      text("bbox.txt"),
      {"frame", "cameraID", "trackID", "left", "right", "top", "bottom", "number_pixels", "truncation_ratio",
       "occupancy_ratio", "isMoving"},
      hint);
  const size_t b_frame = bbox.column("frame"), b_cam = bbox.column("cameraID"), b_tid = bbox.column("trackID"),
               b_left = bbox.column("left"), b_right = bbox.column("right"), b_top = bbox.column("top"),
               b_bottom = bbox.column("bottom"), b_trunc = bbox.column("truncation_ratio"),
               b_occ = bbox.column("occupancy_ratio"), b_moving = bbox.column("isMoving");
  const size_t p_alpha = pose.column("alpha"), p_w = pose.column("width"), p_h = pose.column("height"),
               p_l = pose.column("length"), p_x = pose.column("camera_space_X"), p_y = pose.column("camera_space_Y"),
               p_z = pose.column("camera_space_Z"), p_ry = pose.column("rotation_camera_space_y");
  for (size_t row = 0; row < bbox.rows(); ++row) {
    const int frame = bbox.to_int(row, b_frame), cam = bbox.to_int(row, b_cam), tid = bbox.to_int(row, b_tid);
    auto track = class_of_track.find(tid);
    if (track == class_of_track.end())
      bbox.fail(row, b_tid, "track " + std::to_string(tid) + " is not listed in " + info.path());
    auto p = pose_row.find({frame, cam, tid});
    if (p == pose_row.end())
      bbox.fail_row(row, "track " + std::to_string(tid) + " (frame " + std::to_string(frame) + ", camera " +
                             std::to_string(cam) + ") has no row in " + pose.path());
    const size_t pr = p->second;
    ObjectGT o;
    o.track_id = tid;
    o.class_id = track->second;
    o.left = bbox.to_float(row, b_left), o.right = bbox.to_float(row, b_right);
    o.top = bbox.to_float(row, b_top), o.bottom = bbox.to_float(row, b_bottom);
    o.truncation = bbox.to_float(row, b_trunc), o.occupancy = bbox.to_float(row, b_occ);
    o.moving = bbox.to_bool(row, b_moving);
    o.alpha = pose.to_float(pr, p_alpha);
    o.width3d = pose.to_float(pr, p_w), o.height3d = pose.to_float(pr, p_h), o.length3d = pose.to_float(pr, p_l);
    o.x3d = pose.to_float(pr, p_x), o.y3d = pose.to_float(pr, p_y), o.z3d = pose.to_float(pr, p_z);
    o.rotation_y = pose.to_float(pr, p_ry);
    s.objects[{frame, cam}].push_back(o);
  }

  const TextTable intr =
      TextTable::read(text("intrinsic.txt"), {"frame", "cameraID", "K[0,0]", "K[1,1]", "K[0,2]", "K[1,2]"}, hint);
  s.intrinsic_path = intr.path();
  for (size_t row = 0; row < intr.rows(); ++row) {
    Intrinsics k;
    k.fx = intr.to_double(row, intr.column("K[0,0]")), k.fy = intr.to_double(row, intr.column("K[1,1]"));
    k.cx = intr.to_double(row, intr.column("K[0,2]")), k.cy = intr.to_double(row, intr.column("K[1,2]"));
    if (k.fx <= 0 || k.fy <= 0) intr.fail_row(row, "focal lengths must be positive");
    s.intrinsics[{intr.to_int(row, intr.column("frame")), intr.to_int(row, intr.column("cameraID"))}] = k;
  }

  for (int cam = 0; cam < 2; ++cam) {
    const std::string dir = paths::v2_image_dir(root_, paths::kV2Rgb, world, variation, cam);
    const int first = detail::first_frame_in(dir, "rgb_", "jpg");
    if (first < 0) continue;
    s.first_frame[cam] = paths::v2_image(root_, paths::kV2Rgb, world, variation, cam, first);
    const img::ImageSize size = img::read_image_size(s.first_frame[cam]);
    s.width[cam] = size.width, s.height[cam] = size.height;
  }
  return s;
}

Frame ReaderV2::load(const FrameRef& ref) const {
  if (ref.camera != 0 && ref.camera != 1) list_frames(ref.camera);  // throws the camera error
  const auto seq = cache_.get(ref.world + "/" + ref.variation, [&] { return parse_sequence(ref.world, ref.variation); });
  Frame f;
  f.world = ref.world, f.variation = ref.variation, f.index = ref.index, f.camera = ref.camera;
  auto path = [&](const paths::V2Modality& m) {
    return paths::v2_image(root_, m, ref.world, ref.variation, ref.camera, ref.index);
  };
  auto expect = [&](const paths::V2Modality& m, const char* what) {
    detail::require_file(path(m),
                         std::string(kV2) + " keeps " + what + " of every frame in Scene<NN>/<variation>/frames/" +
                             m.folder + "/Camera_<k>/" + m.prefix + "_<frame>." + m.ext,
                         "extract " + archive_of(m) + " into " + root_);
  };
  const int cam = ref.camera;
  expect(paths::kV2Rgb, "the RGB image");
  const std::string rgb_path = path(paths::kV2Rgb);
  img::Image8 rgb = img::read_jpeg_rgb(rgb_path);
  detail::check_size(rgb_path, rgb.width, rgb.height, seq->width[cam], seq->height[cam], seq->first_frame[cam],
                     "the sequence's first frame");
  f.width = rgb.width, f.height = rgb.height;
  f.rgb = std::move(rgb.pixels);

  expect(paths::kV2Class, "the class labels");
  const std::string class_path = path(paths::kV2Class);
  const img::Image8 cls = img::read_png_rgb8(class_path);
  detail::check_size(class_path, cls.width, cls.height, f.width, f.height, rgb_path, "the RGB frame");
  detail::decode_labels(cls, class_path, seq->colors, /*with_instances=*/false, f);

  expect(paths::kV2Instance, "the instance ids");
  const std::string inst_path = path(paths::kV2Instance);
  const img::Image8 inst = img::read_png_indices(inst_path);
  detail::check_size(inst_path, inst.width, inst.height, f.width, f.height, rgb_path, "the RGB frame");
  f.instance.assign(inst.pixels.begin(), inst.pixels.end());

  expect(paths::kV2Depth, "the depth");
  const std::string depth_path = path(paths::kV2Depth);
  img::Image16 depth = img::read_png_gray16(depth_path);
  detail::check_size(depth_path, depth.width, depth.height, f.width, f.height, rgb_path, "the RGB frame");
  f.depth = std::move(depth.pixels);

  auto objects = seq->objects.find({ref.index, cam});
  if (objects != seq->objects.end()) f.objects = objects->second;
  auto k = seq->intrinsics.find({ref.index, cam});
  if (k == seq->intrinsics.end())
    throw Error(seq->intrinsic_path + ": no row for frame " + std::to_string(ref.index) + " camera " +
                    std::to_string(cam),
                "intrinsic.txt needs one row per frame and camera; re-extract " + std::string(kTextArchive));
  f.K = k->second;
  return f;
}

}  // namespace sdn::data

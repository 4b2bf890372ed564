// vKITTI 2.0.3 writer (see synth_writer.hpp, reference §6): per camera (Camera_0, Camera_1 at the 0.532725 m
// baseline) RGB JPEG, 16-bit depth PNG in cm, classgt RGB PNG in the fixed colors.txt colours and instancegt as
// an 8-bit palettised PNG whose index is trackID + 1; per sequence colors.txt, info.txt, and bbox.txt (note its
// l r t b order), pose.txt, intrinsic.txt, extrinsic.txt with a row per frame and camera.
#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/image_io.hpp"
#include "data/synth_render.hpp"
#include "data/synth_writer.hpp"
#include "data/text_table.hpp"
#include "data/vkitti_paths.hpp"

namespace sdn::data::synth {
namespace {

// colors.txt order of the real files; the colours themselves are class_colors() plus Undefined.
constexpr const char* kColorsOrder[] = {"Terrain", "Sky",          "Tree", "Vegetation", "Building",
                                        "Road",    "GuardRail",    "TrafficSign", "TrafficLight", "Pole",
                                        "Misc",    "Truck",        "Car",  "Van"};
constexpr const char* kBboxHeader =
    "frame cameraID trackID left right top bottom number_pixels truncation_ratio occupancy_ratio isMoving";
constexpr const char* kPoseHeader =
    "frame cameraID trackID alpha width height length world_space_X world_space_Y world_space_Z "
    "rotation_world_space_y rotation_world_space_x rotation_world_space_z camera_space_X camera_space_Y "
    "camera_space_Z rotation_camera_space_y rotation_camera_space_x rotation_camera_space_z";
constexpr const char* kIntrinsicHeader = "frame cameraID K[0,0] K[1,1] K[0,2] K[1,2]";
constexpr const char* kExtrinsicHeader =
    "frame cameraID r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1";
constexpr const char* kInfoHeader = "trackID label model color";

enum File { kBbox, kPose, kIntrinsic, kExtrinsic, kFiles };

std::string int_text(float v) { return std::to_string(static_cast<int>(v)); }
std::string f64(double v) { return format_double(v + 0.0); }  // + 0.0 turns -0 into 0

class WriterV2 final : public SequenceWriter {
 public:
  using SequenceWriter::SequenceWriter;

  int cameras() const override { return 2; }

  void prepare() override {
    const std::string& root = options_.out;
    for (int cam = 0; cam < 2; ++cam)
      for (const auto* m : {&paths::kV2Rgb, &paths::kV2Depth, &paths::kV2Class, &paths::kV2Instance})
        make_dirs(paths::v2_image_dir(root, *m, world_, variation_, cam));
    std::string colors = "Category r g b\n";
    for (const char* name : kColorsOrder) {
      const auto& c = class_colors()[static_cast<size_t>(*class_id(name))];
      colors += std::string(name) + " " + std::to_string(c[0]) + " " + std::to_string(c[1]) + " " +
                std::to_string(c[2]) + "\n";
    }
    colors += "Undefined 0 0 0\n";
    write_text_file(paths::v2_text(root, world_, variation_, "colors.txt"), colors);
    std::string info = std::string(kInfoHeader) + "\n";
    for (const TrackInfo& t : scene_.tracks(options_.first_frame, options_.first_frame + options_.frames - 1))
      info += std::to_string(t.track_id) + " " + class_names()[t.class_id] + " " + t.model + " " + t.color_name + "\n";
    write_text_file(paths::v2_text(root, world_, variation_, "info.txt"), info);
    // Index 0 (background) is black; the palette colours are for viewers only, readers use the indices.
    palette_.assign(256, {0, 0, 0});
    for (size_t i = 1; i < palette_.size(); ++i) {
      const std::uint64_t h = mix64(i * 0x51ED27ULL);
      palette_[i] = {static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h >> 16)};
    }
  }

  FrameRows write_frame(int index, int camera) const override {
    const RenderedFrame r = render_frame(scene_, look_, Layout::kVkitti2, world_, variation_, index, camera,
                                         options_.width, options_.height);
    const Frame& f = r.frame;
    const std::string& root = options_.out;
    auto path = [&](const paths::V2Modality& m) { return paths::v2_image(root, m, world_, variation_, camera, index); };
    img::write_jpeg_rgb(path(paths::kV2Rgb), img::Image8{f.width, f.height, 3, f.rgb});
    img::write_png_gray16(path(paths::kV2Depth), img::Image16{f.width, f.height, f.depth});
    img::Image8 cls{f.width, f.height, 3, std::vector<std::uint8_t>(f.rgb.size())};
    img::Image8 inst{f.width, f.height, 1, std::vector<std::uint8_t>(f.instance.size())};
    for (size_t i = 0; i < f.classes.size(); ++i) {
      const auto& c = class_colors()[f.classes[i]];
      cls.pixels[3 * i] = c[0], cls.pixels[3 * i + 1] = c[1], cls.pixels[3 * i + 2] = c[2];
      SDN_CHECK(f.instance[i] < 256, "instance id does not fit the 8-bit instancegt");
      inst.pixels[i] = static_cast<std::uint8_t>(f.instance[i]);
    }
    img::write_png_rgb8(path(paths::kV2Class), cls);
    img::write_png_palette(path(paths::kV2Instance), inst, palette_);

    FrameRows rows;
    rows.files.resize(kFiles);
    const std::string head = std::to_string(index) + " " + std::to_string(camera) + " ";
    for (const RenderedObject& o : r.objects) {
      const ObjectGT& g = o.gt;
      const std::string id = head + std::to_string(g.track_id) + " ";
      rows.files[kBbox] += id + int_text(g.left) + " " + int_text(g.right) + " " + int_text(g.top) + " " +
                           int_text(g.bottom) + " " + std::to_string(o.pixels) + " " + format_float(g.truncation) +
                           " " + format_float(g.occupancy) + " " + (g.moving ? "True" : "False") + "\n";
      rows.files[kPose] += id + format_float(g.alpha) + " " + format_float(g.width3d) + " " + format_float(g.height3d) +
                           " " + format_float(g.length3d) + " " + f64(o.world.x) + " " + f64(o.world.y) + " " +
                           f64(o.world.z) + " " + format_float(o.world_ry) + " 0 0 " + format_float(g.x3d) + " " +
                           format_float(g.y3d) + " " + format_float(g.z3d) + " " + format_float(g.rotation_y) +
                           " 0 0\n";
    }
    rows.files[kIntrinsic] = head + f64(f.K.fx) + " " + f64(f.K.fy) + " " + f64(f.K.cx) + " " + f64(f.K.cy) + "\n";
    rows.files[kExtrinsic] = head.substr(0, head.size() - 1);
    for (double v : r.extrinsic) rows.files[kExtrinsic] += " " + f64(v);
    rows.files[kExtrinsic] += "\n";
    return rows;
  }

  void finish(const std::vector<FrameRows>& rows) override {
    const char* names[kFiles] = {"bbox.txt", "pose.txt", "intrinsic.txt", "extrinsic.txt"};
    const char* headers[kFiles] = {kBboxHeader, kPoseHeader, kIntrinsicHeader, kExtrinsicHeader};
    for (int k = 0; k < kFiles; ++k) {
      std::string text = std::string(headers[k]) + "\n";
      for (const auto& r : rows) text += r.files[static_cast<size_t>(k)];
      write_text_file(paths::v2_text(options_.out, world_, variation_, names[k]), text);
    }
  }

 private:
  img::Palette palette_;
};

}  // namespace

std::unique_ptr<SequenceWriter> make_writer_v2(const SynthOptions& o, const std::string& world,
                                               const std::string& variation) {
  return std::make_unique<WriterV2>(o, world, variation);
}

}  // namespace sdn::data::synth

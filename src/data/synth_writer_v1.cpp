// vKITTI 1.3.1 writer (see synth_writer.hpp, reference §5): RGB PNG, scenegt RGB PNG whose colours come from
// the per-sequence <world>_<variation>_scenegt_rgb_encoding.txt (stuff classes by name, one distinct colour per
// Car/Van instance "Car:<tid>"), 16-bit depth PNG in cm, 24-column motgt and the extrinsicsgt table.
#include <array>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/image_io.hpp"
#include "data/synth_render.hpp"
#include "data/synth_writer.hpp"
#include "data/text_table.hpp"
#include "data/vkitti_paths.hpp"

namespace sdn::data::synth {
namespace {

// Stuff colours of the 1.3.1 encodings, in the order the real files list them (GuardRail is 255 100 255 here,
// 250 100 255 in 2.0.3).
struct StuffColor {
  const char* name;
  Rgb rgb;
};
constexpr StuffColor kStuff[] = {
    {"Terrain", {210, 0, 200}},     {"Sky", {90, 200, 255}},     {"Tree", {0, 199, 0}},
    {"Vegetation", {90, 240, 0}},   {"Building", {140, 140, 140}}, {"Road", {100, 60, 100}},
    {"GuardRail", {255, 100, 255}}, {"TrafficSign", {255, 255, 0}}, {"TrafficLight", {200, 200, 0}},
    {"Pole", {255, 130, 0}},        {"Misc", {80, 80, 80}},       {"Truck", {160, 60, 60}},
};

constexpr const char* kMotHeader =
    "frame tid label truncated occluded alpha l t r b w3d h3d l3d x3d y3d z3d ry rx rz truncr occupr orig_label "
    "moving model color";
constexpr const char* kExtrinsicHeader = "frame r1,1 r1,2 r1,3 t1 r2,1 r2,2 r2,3 t2 r3,1 r3,2 r3,3 t3 0 0 0 1";

std::string int_text(float v) { return std::to_string(static_cast<int>(v)); }

class WriterV1 final : public SequenceWriter {
 public:
  using SequenceWriter::SequenceWriter;

  int cameras() const override { return 1; }

  void prepare() override {
    const std::string& root = options_.out;
    for (const char* m : {paths::kV1Rgb, paths::kV1SceneGt, paths::kV1DepthGt})
      make_dirs(paths::v1_image_dir(root, m, world_, variation_));
    make_dirs(root + "/" + paths::kV1MotGt);
    make_dirs(root + "/" + paths::kV1Extrinsics);
    std::set<Rgb> used;
    std::string text = "Category(:id) r g b\n";
    for (const auto& s : kStuff) {
      stuff_by_class_[static_cast<size_t>(*class_id(s.name))] = s.rgb;
      has_stuff_[static_cast<size_t>(*class_id(s.name))] = true;
      used.insert(s.rgb);
      text += std::string(s.name) + " " + rgb_text(s.rgb) + "\n";
    }
    // One colour per instance, distinct from every stuff colour and every other instance of the sequence.
    const int last = options_.first_frame + options_.frames - 1;
    for (const TrackInfo& t : scene_.tracks(options_.first_frame, last)) {
      Rgb c{};
      for (std::uint64_t attempt = 0;; ++attempt) {
        KeyedRng rng({scene_.key(), text_key(variation_), static_cast<std::uint64_t>(t.track_id), attempt});
        const std::uint64_t h = rng.next();
        c = {static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h >> 16)};
        if (used.insert(c).second) break;
      }
      instance_colors_[t.track_id] = c;
      text += std::string(class_names()[t.class_id]) + ":" + std::to_string(t.track_id) + " " + rgb_text(c) + "\n";
    }
    write_text_file(paths::v1_encoding(root, world_, variation_), text);
  }

  FrameRows write_frame(int index, int camera) const override {
    const RenderedFrame r = render_frame(scene_, look_, Layout::kVkitti1, world_, variation_, index, camera,
                                         options_.width, options_.height);
    const Frame& f = r.frame;
    const std::string& root = options_.out;
    img::Image8 rgb{f.width, f.height, 3, f.rgb};
    img::write_png_rgb8(paths::v1_image(root, paths::kV1Rgb, world_, variation_, index), rgb);
    for (size_t i = 0; i < f.classes.size(); ++i) {
      const int inst = f.instance[i];
      SDN_CHECK(inst > 0 || has_stuff_[f.classes[i]], "synthetic class without a 1.3.1 colour");
      const Rgb c = inst > 0 ? instance_colors_.at(inst - 1) : stuff_by_class_[f.classes[i]];
      rgb.pixels[3 * i] = c[0], rgb.pixels[3 * i + 1] = c[1], rgb.pixels[3 * i + 2] = c[2];
    }
    img::write_png_rgb8(paths::v1_image(root, paths::kV1SceneGt, world_, variation_, index), rgb);
    img::write_png_gray16(paths::v1_image(root, paths::kV1DepthGt, world_, variation_, index),
                          img::Image16{f.width, f.height, f.depth});

    FrameRows rows;
    rows.files.resize(2);
    for (const RenderedObject& o : r.objects) {
      const ObjectGT& g = o.gt;
      const std::string label = class_names()[g.class_id];
      rows.files[0] += std::to_string(index) + " " + std::to_string(g.track_id) + " " + label + " " +
                       std::to_string(o.truncated) + " " + std::to_string(o.occluded) + " " + format_float(g.alpha) +
                       " " + int_text(g.left) + " " + int_text(g.top) + " " + int_text(g.right) + " " +
                       int_text(g.bottom) + " " + format_float(g.width3d) + " " + format_float(g.height3d) + " " +
                       format_float(g.length3d) + " " + format_float(g.x3d) + " " + format_float(g.y3d) + " " +
                       format_float(g.z3d) + " " + format_float(g.rotation_y) + " 0 0 " + format_float(g.truncation) +
                       " " + format_float(g.occupancy) + " " + label + " " + (g.moving ? "1" : "0") + " " + o.model +
                       " " + o.color_name + "\n";
    }
    rows.files[1] = std::to_string(index);
    for (double v : r.extrinsic) rows.files[1] += " " + format_double(v + 0.0);
    rows.files[1] += "\n";
    return rows;
  }

  void finish(const std::vector<FrameRows>& rows) override {
    std::string mot = std::string(kMotHeader) + "\n", ext = std::string(kExtrinsicHeader) + "\n";
    for (const auto& r : rows) mot += r.files[0], ext += r.files[1];
    write_text_file(paths::v1_motgt(options_.out, world_, variation_), mot);
    write_text_file(paths::v1_extrinsics(options_.out, world_, variation_), ext);
  }

 private:
  static std::string rgb_text(const Rgb& c) {
    return std::to_string(c[0]) + " " + std::to_string(c[1]) + " " + std::to_string(c[2]);
  }

  std::array<Rgb, kNumClasses> stuff_by_class_{};
  std::array<bool, kNumClasses> has_stuff_{};
  std::map<int, Rgb> instance_colors_;  // by track id
};

}  // namespace

std::unique_ptr<SequenceWriter> make_writer_v1(const SynthOptions& o, const std::string& world,
                                               const std::string& variation) {
  return std::make_unique<WriterV1>(o, world, variation);
}

}  // namespace sdn::data::synth

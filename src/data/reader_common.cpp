// Implements the pieces shared by the vKITTI readers (see reader_common.hpp).
#include "data/reader_common.hpp"

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "data/vkitti.hpp"
#include "data/vkitti_paths.hpp"

namespace sdn::data::detail {
namespace {

std::uint32_t pack_rgb(std::uint32_t r, std::uint32_t g, std::uint32_t b) { return (r << 16) | (g << 8) | b; }

}  // namespace

ColorTable read_color_table(const TextTable& t, const std::string& name_column, bool instances) {
  ColorTable out;
  out.source = t.path();
  const size_t cn = t.column(name_column), cr = t.column("r"), cg = t.column("g"), cb = t.column("b");
  std::unordered_map<std::uint32_t, size_t> first_row;
  for (size_t row = 0; row < t.rows(); ++row) {
    const std::string& entry = t.text(row, cn);
    std::string name = entry;
    Label label;
    const size_t colon = entry.find(':');
    if (colon != std::string::npos) {
      if (!instances) t.fail(row, cn, "'" + entry + "': instance entries (Name:id) are not expected in this file");
      name = entry.substr(0, colon);
      const std::string id = entry.substr(colon + 1);
      char* end = nullptr;
      const long tid = std::strtol(id.c_str(), &end, 10);
      if (id.empty() || *end != '\0' || tid < 0 || tid > 65534)
        t.fail(row, cn, "'" + entry + "': the track id after ':' must be an integer in [0, 65534]");
      label.instance = static_cast<std::uint16_t>(tid + 1);
    }
    if (auto id = class_id(name)) label.class_id = static_cast<std::uint8_t>(*id);
    int rgb[3];
    const size_t cols[3] = {cr, cg, cb};
    for (int k = 0; k < 3; ++k) {
      rgb[k] = t.to_int(row, cols[k]);
      if (rgb[k] < 0 || rgb[k] > 255) t.fail(row, cols[k], std::to_string(rgb[k]) + " is not in [0, 255]");
    }
    const std::uint32_t key = pack_rgb(rgb[0], rgb[1], rgb[2]);
    auto [it, fresh] = first_row.emplace(key, row);
    if (!fresh) {
      const Label& before = out.labels.at(key);
      if (before.class_id == label.class_id && before.instance == label.instance) continue;  // a repeated line
      t.fail_row(row, "colour " + std::to_string(rgb[0]) + " " + std::to_string(rgb[1]) + " " + std::to_string(rgb[2]) +
                          " is already used on line " + std::to_string(t.line(it->second)) + " for another label");
    }
    out.labels.emplace(key, label);
  }
  return out;
}

void decode_labels(const img::Image8& image, const std::string& image_path, const ColorTable& table,
                   bool with_instances, Frame& frame) {
  const size_t n = static_cast<size_t>(image.width) * image.height;
  frame.classes.assign(n, kUnlabelled);
  if (with_instances) frame.instance.assign(n, 0);
  std::uint32_t last_key = 0xFFFFFFFFu;  // label images are piecewise constant: skip most hash lookups
  Label last;
  for (size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = &image.pixels[3 * i];
    const std::uint32_t key = pack_rgb(p[0], p[1], p[2]);
    if (key != last_key) {
      auto it = table.labels.find(key);
      if (it == table.labels.end()) {
        const int x = static_cast<int>(i % static_cast<size_t>(image.width)), y = static_cast<int>(i / image.width);
        throw Error(image_path + ": pixel (x=" + std::to_string(x) + ", y=" + std::to_string(y) + ") has colour (" +
                        std::to_string(p[0]) + ", " + std::to_string(p[1]) + ", " + std::to_string(p[2]) +
                        "), which is not in " + table.source,
                    "the label image and its colour table do not belong together; re-extract both");
      }
      last_key = key;
      last = it->second;
    }
    frame.classes[i] = last.class_id;
    if (with_instances) frame.instance[i] = last.instance;
  }
}

void check_size(const std::string& path, int width, int height, int expected_width, int expected_height,
                const std::string& reference_path, const std::string& what_reference) {
  if (width == expected_width && height == expected_height) return;
  throw Error(path + ": image is " + std::to_string(width) + "x" + std::to_string(height) + ", but " +
                  what_reference + " " + reference_path + " is " + std::to_string(expected_width) + "x" +
                  std::to_string(expected_height),
              "all frames of a sequence and all modalities of a frame must have one size; re-extract the file");
}

void require_file(const std::string& path, const std::string& expectation, const std::string& hint) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(path + ": missing; " + expectation, hint);
}

int first_frame_in(const std::string& dir, const std::string& prefix, const std::string& ext) {
  int best = -1;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const int n = paths::frame_number(it->path().filename().string(), prefix, ext);
    if (n >= 0 && (best < 0 || n < best)) best = n;
  }
  return best;
}

}  // namespace sdn::data::detail

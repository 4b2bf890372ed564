// Implements the validated, thread-safe read side of the shards (see shard_set.hpp).
#include "data/shard_set.hpp"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace sdn::data {
namespace {

std::mutex& hdf5_mutex() {
  static std::mutex mu;  // process-wide: the HDF5 library itself is one shared, non-thread-safe state
  return mu;
}

const char* kRepack = "re-create the shards with `sdn pack --src <vkitti> --out <dir> --split <split>`";

}  // namespace

struct ShardSet::Open {
  std::string path;
  std::int64_t n = 0;
  h5::Hid file, rgb, cls, inst, depth, intr, range, objects, object_type;
};

std::int64_t ShardIndex::total() const {
  std::int64_t t = 0;
  for (auto c : counts) t += c;
  return t;
}

bool ShardIndex::has_checksums() const {
  if (bytes.size() != files.size() || crc32.size() != files.size()) return false;
  for (size_t i = 0; i < files.size(); ++i)
    if (bytes[i] < 0 || crc32[i] < 0) return false;
  return true;
}

std::string index_to_json(const ShardIndex& x) {
  nlohmann::json j;
  j["format_version"] = x.format_version;
  j["split"] = x.split;
  j["source_layout"] = x.source_layout;
  j["source_root"] = x.source_root;
  j["camera"] = x.camera;
  j["width"] = x.width;
  j["height"] = x.height;
  j["num_samples"] = x.total();
  for (size_t i = 0; i < x.files.size(); ++i) {
    nlohmann::json shard = {{"file", x.files[i]}, {"num_samples", x.counts[i]}};
    if (i < x.bytes.size() && x.bytes[i] >= 0) shard["bytes"] = x.bytes[i];
    if (i < x.crc32.size() && x.crc32[i] >= 0) shard["crc32"] = x.crc32[i];
    j["shards"].push_back(shard);
  }
  return j.dump(2) + "\n";
}

ShardIndex index_from_json(const std::string& text, const std::string& path) {
  ShardIndex x;
  try {
    auto j = nlohmann::json::parse(text);
    x.format_version = j.at("format_version").get<std::int64_t>();
    x.split = j.at("split").get<std::string>();
    x.source_layout = j.at("source_layout").get<std::string>();
    x.source_root = j.value("source_root", "");
    x.camera = j.value("camera", 0);
    x.width = j.at("width").get<int>();
    x.height = j.at("height").get<int>();
    for (const auto& s : j.at("shards")) {
      x.files.push_back(s.at("file").get<std::string>());
      x.counts.push_back(s.at("num_samples").get<std::int64_t>());
      x.bytes.push_back(s.value("bytes", std::int64_t{-1}));  // absent in indexes written before the CRCs
      x.crc32.push_back(s.value("crc32", std::int64_t{-1}));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("shard index " + path + " is malformed: " + e.what(), kRepack);
  }
  return x;
}

ShardSet::ShardSet(const std::string& dir, const std::string& split) : dir_(dir) {
  const std::string index_path = (std::filesystem::path(dir) / shard::index_file_name(split)).string();
  if (!std::filesystem::exists(index_path))
    throw Error("no shards of split '" + split + "' in " + dir + " (missing " + index_path + ")", kRepack);
  index_ = index_from_json(fs::read_file(index_path), index_path);
  if (index_.format_version != shard::kFormatVersion)
    throw Error(index_path + " has format version " + std::to_string(index_.format_version) + "; this sdn reads " +
                    std::to_string(shard::kFormatVersion),
                kRepack);
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  std::int64_t start = 0;
  for (size_t i = 0; i < index_.files.size(); ++i) {
    auto o = std::make_unique<Open>();
    o->path = (std::filesystem::path(dir) / index_.files[i]).string();
    if (!std::filesystem::exists(o->path))
      throw Error("shard " + o->path + " listed in " + index_path + " is missing", kRepack);
    o->file = h5::open_read(o->path);
    auto version = h5::get_attr_int(o->file, "format_version", o->path);
    if (version != shard::kFormatVersion)
      throw Error("shard " + o->path + " has format version " + std::to_string(version) + "; this sdn reads " +
                      std::to_string(shard::kFormatVersion),
                  kRepack);
    o->n = h5::get_attr_int(o->file, "num_samples", o->path);
    o->rgb = h5::open_dataset(o->file, shard::kRgb, o->path);
    o->cls = h5::open_dataset(o->file, shard::kClass, o->path);
    o->inst = h5::open_dataset(o->file, shard::kInstance, o->path);
    o->depth = h5::open_dataset(o->file, shard::kDepth, o->path);
    o->intr = h5::open_dataset(o->file, shard::kIntrinsics, o->path);
    o->range = h5::open_dataset(o->file, shard::kObjectRange, o->path);
    o->objects = h5::open_dataset(o->file, shard::kObjects, o->path);
    o->object_type = shard::object_row_type();
    const auto h = static_cast<hsize_t>(index_.height), w = static_cast<hsize_t>(index_.width);
    const auto n = static_cast<hsize_t>(o->n);
    if (o->n != index_.counts[i] || h5::dims(o->rgb) != std::vector<hsize_t>{n, h, w, 3} ||
        h5::dims(o->cls) != std::vector<hsize_t>{n, h, w} || h5::dims(o->inst) != std::vector<hsize_t>{n, h, w} ||
        h5::dims(o->depth) != std::vector<hsize_t>{n, h, w})
      throw Error("shard " + o->path + " does not match " + index_path + " (expected " + std::to_string(index_.counts[i]) +
                      " samples of " + std::to_string(w) + "x" + std::to_string(h) + ")",
                  kRepack);
    starts_.push_back(start);
    start += o->n;
    shards_.push_back(std::move(o));
  }
}

ShardSet::~ShardSet() {
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  shards_.clear();
}

std::pair<const ShardSet::Open*, std::int64_t> ShardSet::locate(std::int64_t i) const {
  SDN_CHECK(i >= 0 && i < size(), "sample index " + std::to_string(i) + " outside [0, " + std::to_string(size()) + ")");
  auto it = std::upper_bound(starts_.begin(), starts_.end(), i);
  size_t s = static_cast<size_t>(std::distance(starts_.begin(), it) - 1);
  return {shards_[s].get(), i - starts_[s]};
}

void ShardSet::read(std::int64_t i, const Fields& fields, Sample& out) const {
  auto [o, row] = locate(i);
  const size_t px = static_cast<size_t>(width()) * static_cast<size_t>(height());
  out.index = i;
  out.width = width();
  out.height = height();
  out.rgb.resize(fields.rgb ? px * 3 : 0);
  out.classes.resize(fields.classes ? px : 0);
  out.instance.resize(fields.instance ? px : 0);
  out.depth.resize(fields.depth ? px : 0);
  const auto r = static_cast<hsize_t>(row);
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  if (fields.rgb) h5::read_rows(o->rgb, h5::native<std::uint8_t>(), r, 1, out.rgb.data(), o->path + ":/rgb");
  if (fields.classes) h5::read_rows(o->cls, h5::native<std::uint8_t>(), r, 1, out.classes.data(), o->path + ":/class");
  if (fields.instance)
    h5::read_rows(o->inst, h5::native<std::uint16_t>(), r, 1, out.instance.data(), o->path + ":/instance");
  if (fields.depth) h5::read_rows(o->depth, h5::native<std::uint16_t>(), r, 1, out.depth.data(), o->path + ":/depth");
  out.objects.clear();
  out.K = Intrinsics{};
  if (fields.objects) {
    for (const auto& obj : objects_locked(*o, row)) out.objects.push_back(object_from_row(obj));
    double k[4] = {0, 0, 0, 0};
    h5::read_rows(o->intr, h5::native<double>(), r, 1, k, o->path + ":/intrinsics");
    out.K = {k[0], k[1], k[2], k[3]};
  }
}

SampleInfo ShardSet::info(std::int64_t i) const {
  auto [o, row] = locate(i);
  const auto r = static_cast<hsize_t>(row);
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  SampleInfo s;
  s.world = h5::read_string_at(o->file, shard::kWorld, r, o->path);
  s.variation = h5::read_string_at(o->file, shard::kVariation, r, o->path);
  auto fr = h5::open_dataset(o->file, shard::kFrame, o->path);
  h5::read_rows(fr, h5::native<std::int32_t>(), r, 1, &s.frame, o->path + ":/frame");
  auto cam = h5::open_dataset(o->file, shard::kCamera, o->path);
  h5::read_rows(cam, h5::native<std::int32_t>(), r, 1, &s.camera, o->path + ":/camera");
  return s;
}

std::vector<shard::ObjectRow> ShardSet::objects(std::int64_t i) const {
  auto [o, row] = locate(i);
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  return objects_locked(*o, row);
}

std::vector<shard::ObjectRow> ShardSet::objects_locked(const Open& o, std::int64_t row) const {
  std::int64_t range[2] = {0, 0};
  h5::read_rows(o.range, h5::native<std::int64_t>(), static_cast<hsize_t>(row), 1, range, o.path + ":/object_range");
  std::vector<shard::ObjectRow> rows(static_cast<size_t>(range[1]));
  if (!rows.empty())
    h5::read_rows(o.objects, o.object_type, static_cast<hsize_t>(range[0]), rows.size(), rows.data(), o.path + ":/objects");
  return rows;
}

ObjectGT object_from_row(const shard::ObjectRow& r) {
  ObjectGT g;
  g.track_id = r.track_id, g.class_id = r.class_id;
  g.left = r.left, g.top = r.top, g.right = r.right, g.bottom = r.bottom;
  g.width3d = r.width3d, g.height3d = r.height3d, g.length3d = r.length3d;
  g.x3d = r.x3d, g.y3d = r.y3d, g.z3d = r.z3d;
  g.rotation_y = r.rotation_y, g.alpha = r.alpha;
  g.truncation = r.truncation, g.occupancy = r.occupancy;
  g.moving = r.moving != 0;
  return g;
}

}  // namespace sdn::data

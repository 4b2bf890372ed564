// Implements the crash-safe shard writer (see shard_writer.hpp).
#include "data/shard_writer.hpp"

#include <unistd.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/vkitti.hpp"

namespace sdn::data {
namespace {

std::string frame_name(const Frame& f) {
  return f.world + "/" + f.variation + "/" + std::to_string(f.index) + " (camera " + std::to_string(f.camera) + ")";
}

}  // namespace

ShardWriter::ShardWriter(std::string final_path, ShardMeta meta, std::int64_t num_samples)
    : final_path_(std::move(final_path)), temp_path_(fs::temp_path_for(final_path_)), meta_(std::move(meta)),
      n_(num_samples), written_(static_cast<size_t>(num_samples), false), world_(written_.size()),
      variation_(written_.size()), frame_(written_.size()), camera_(written_.size()),
      intrinsics_(written_.size() * 4), objects_(written_.size()) {
  const hsize_t n = static_cast<hsize_t>(n_), h = static_cast<hsize_t>(meta_.height),
                w = static_cast<hsize_t>(meta_.width);
  file_ = h5::create_truncate(temp_path_);
  // One chunk per sample and field: a random-access read touches exactly one chunk, and raw storage costs
  // no decode time (deflate costs as much CPU as PNG decoding for a 1.5x saving; docs/data-format.md).
  rgb_ = h5::create_dataset(file_, shard::kRgb, h5::native<std::uint8_t>(), {n, h, w, 3}, {1, h, w, 3});
  class_ = h5::create_dataset(file_, shard::kClass, h5::native<std::uint8_t>(), {n, h, w}, {1, h, w});
  instance_ = h5::create_dataset(file_, shard::kInstance, h5::native<std::uint16_t>(), {n, h, w}, {1, h, w});
  depth_ = h5::create_dataset(file_, shard::kDepth, h5::native<std::uint16_t>(), {n, h, w}, {1, h, w});
}

ShardWriter::~ShardWriter() {
  if (!committed_) {
    file_.reset();
    ::unlink(temp_path_.c_str());
  }
}

void ShardWriter::write(std::int64_t row, const Frame& f) {
  SDN_CHECK(row >= 0 && row < n_, "shard row " + std::to_string(row) + " out of range");
  SDN_CHECK(!written_[static_cast<size_t>(row)], "shard row " + std::to_string(row) + " written twice");
  if (f.width != meta_.width || f.height != meta_.height)
    throw Error("frame " + frame_name(f) + " is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                    " but the shard holds " + std::to_string(meta_.width) + "x" + std::to_string(meta_.height) +
                    " frames",
                "pack frames of one size per shard set (all of vKITTI is 1242x375)");
  const size_t px = static_cast<size_t>(f.width) * static_cast<size_t>(f.height);
  SDN_CHECK(f.rgb.size() == px * 3 && f.classes.size() == px && f.instance.size() == px && f.depth.size() == px,
            "frame " + frame_name(f) + " has planes of inconsistent size");
  const auto r = static_cast<hsize_t>(row);
  h5::write_rows(rgb_, h5::native<std::uint8_t>(), r, 1, f.rgb.data(), temp_path_ + ":/rgb");
  h5::write_rows(class_, h5::native<std::uint8_t>(), r, 1, f.classes.data(), temp_path_ + ":/class");
  h5::write_rows(instance_, h5::native<std::uint16_t>(), r, 1, f.instance.data(), temp_path_ + ":/instance");
  h5::write_rows(depth_, h5::native<std::uint16_t>(), r, 1, f.depth.data(), temp_path_ + ":/depth");
  const auto i = static_cast<size_t>(row);
  world_[i] = f.world;
  variation_[i] = f.variation;
  frame_[i] = f.index;
  camera_[i] = f.camera;
  intrinsics_[i * 4 + 0] = f.K.fx;
  intrinsics_[i * 4 + 1] = f.K.fy;
  intrinsics_[i * 4 + 2] = f.K.cx;
  intrinsics_[i * 4 + 3] = f.K.cy;
  for (const auto& o : f.objects) {
    objects_[i].push_back({static_cast<std::int32_t>(row), o.track_id, o.class_id, o.left, o.top, o.right, o.bottom,
                           o.width3d, o.height3d, o.length3d, o.x3d, o.y3d, o.z3d, o.rotation_y, o.alpha,
                           o.truncation, o.occupancy, static_cast<std::uint8_t>(o.moving)});
  }
  written_[i] = true;
}

void ShardWriter::commit() {
  for (size_t i = 0; i < written_.size(); ++i)
    SDN_CHECK(written_[i], "shard " + final_path_ + ": row " + std::to_string(i) + " was never written");
  const hsize_t n = static_cast<hsize_t>(n_);
  h5::write_strings(file_, shard::kWorld, world_);
  h5::write_strings(file_, shard::kVariation, variation_);
  auto fr = h5::create_dataset(file_, shard::kFrame, h5::native<std::int32_t>(), {n});
  auto cam = h5::create_dataset(file_, shard::kCamera, h5::native<std::int32_t>(), {n});
  auto k = h5::create_dataset(file_, shard::kIntrinsics, h5::native<double>(), {n, 4});
  std::vector<shard::ObjectRow> rows;
  std::vector<std::int64_t> range;
  for (const auto& objs : objects_) {
    range.push_back(static_cast<std::int64_t>(rows.size()));
    range.push_back(static_cast<std::int64_t>(objs.size()));
    rows.insert(rows.end(), objs.begin(), objs.end());
  }
  auto otype = shard::object_row_type();
  auto obj = h5::create_dataset(file_, shard::kObjects, otype, {rows.size()});
  auto orange = h5::create_dataset(file_, shard::kObjectRange, h5::native<std::int64_t>(), {n, 2});
  if (n > 0) {
    h5::write_all(fr, h5::native<std::int32_t>(), frame_.data(), final_path_ + ":/frame");
    h5::write_all(cam, h5::native<std::int32_t>(), camera_.data(), final_path_ + ":/camera");
    h5::write_all(k, h5::native<double>(), intrinsics_.data(), final_path_ + ":/intrinsics");
    h5::write_all(orange, h5::native<std::int64_t>(), range.data(), final_path_ + ":/object_range");
  }
  if (!rows.empty()) h5::write_all(obj, otype, rows.data(), final_path_ + ":/objects");

  h5::set_attr(file_, "format_version", shard::kFormatVersion);
  h5::set_attr(file_, "source_layout", meta_.source_layout);
  h5::set_attr(file_, "split", meta_.split);
  h5::set_attr(file_, "num_samples", static_cast<std::int64_t>(n_));
  h5::set_attr(file_, "width", static_cast<std::int64_t>(meta_.width));
  h5::set_attr(file_, "height", static_cast<std::int64_t>(meta_.height));
  h5::set_attr(file_, "shard", static_cast<std::int64_t>(meta_.shard));
  h5::set_attr(file_, "num_shards", static_cast<std::int64_t>(meta_.num_shards));
  std::vector<std::string> names(class_names().begin(), class_names().end());
  h5::set_attr(file_, "class_names", names);
  std::vector<std::int64_t> colors;
  for (const auto& c : class_colors())
    for (auto v : c) colors.push_back(v);
  h5::set_attr(file_, "class_colors", colors);

  h5::flush(file_, temp_path_);
  fr.reset(), cam.reset(), k.reset(), obj.reset(), orange.reset(), otype.reset();
  rgb_.reset(), class_.reset(), instance_.reset(), depth_.reset();
  file_.reset();  // closes the file: everything is on disk before the rename makes it visible
  fs::commit_rename(temp_path_, final_path_);
  committed_ = true;
}

}  // namespace sdn::data

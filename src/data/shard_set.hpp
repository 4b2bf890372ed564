// Read side of the shards: opens every shard of a split listed in its index file (read-only, no file
// locks), validates format version and sizes up front, and maps a global sample index to (shard, row).
// HDF5 is not thread-safe, so reads are serialised by one process-wide mutex; a raw frame read costs
// ~0.1 ms, far below the decode and augmentation work the loader threads do outside the lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/h5.hpp"
#include "data/frame.hpp"
#include "data/sample.hpp"
#include "data/shard_format.hpp"

namespace sdn::data {

// Contents of <split>-index.json.
struct ShardIndex {
  std::int64_t format_version = shard::kFormatVersion;
  std::string split, source_layout, source_root;
  int camera = 0;
  int width = 0, height = 0;
  std::vector<std::string> files;        // relative to the index's directory
  std::vector<std::int64_t> counts;      // samples per file
  // Per file: size in bytes and zlib CRC-32 of the whole file, or -1 when the index predates them (optional
  // fields, so old indexes still load; data/stage_copy.hpp checks copies by size only then).
  std::vector<std::int64_t> bytes;
  std::vector<std::int64_t> crc32;
  std::int64_t total() const;
  bool has_checksums() const;  // every file has a size and a CRC
};

std::string index_to_json(const ShardIndex& index);
// Parses index JSON; errors name `path_for_errors` and the bad field.
ShardIndex index_from_json(const std::string& text, const std::string& path_for_errors);

// Identity of one sample (for eval/predict outputs).
struct SampleInfo {
  std::string world, variation;
  int frame = 0, camera = 0;
};

// An /objects row as the layers above see an object (Sample::objects).
ObjectGT object_from_row(const shard::ObjectRow& row);

class ShardSet {
 public:
  // Opens DIR/<split>-index.json and every shard it lists. Throws Error with a hint to run `sdn pack`.
  ShardSet(const std::string& dir, const std::string& split);
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  const ShardIndex& index() const { return index_; }
  std::int64_t size() const { return index_.total(); }
  int width() const { return index_.width; }
  int height() const { return index_.height; }

  // Reads the requested fields of sample `i` into `out` (resizing its buffers). Thread-safe.
  void read(std::int64_t i, const Fields& fields, Sample& out) const;
  SampleInfo info(std::int64_t i) const;
  // The /objects rows of sample `i`, in file order (the order Sample::objects and Item::object use).
  std::vector<shard::ObjectRow> objects(std::int64_t i) const;

 private:
  struct Open;
  std::vector<shard::ObjectRow> objects_locked(const Open& o, std::int64_t row) const;  // caller holds the mutex
  std::pair<const Open*, std::int64_t> locate(std::int64_t i) const;

  std::string dir_;
  ShardIndex index_;
  std::vector<std::unique_ptr<Open>> shards_;
  std::vector<std::int64_t> starts_;  // global index of each shard's first sample
};

}  // namespace sdn::data

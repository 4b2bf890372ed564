// Writes one HDF5 shard: rows may arrive in any order (parallel decoders), each exactly once; the file lives
// under a temporary name until commit() has flushed, fsynced and renamed it, so a crash never leaves a
// half-written shard under its final name. Not thread-safe: callers serialise write() (HDF5 is not thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/h5.hpp"
#include "data/frame.hpp"
#include "data/shard_format.hpp"

namespace sdn::data {

struct ShardMeta {
  std::string source_layout;  // "vkitti1" / "vkitti2"
  std::string split;          // "train" / "test" / "all"
  int width = 0, height = 0;
  int shard = 0, num_shards = 1;
};

class ShardWriter {
 public:
  ShardWriter(std::string final_path, ShardMeta meta, std::int64_t num_samples);
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;
  ~ShardWriter();  // removes the temporary file unless committed

  // Stores `frame` as row `row`. Throws Error naming the frame if its size differs from the shard's.
  void write(std::int64_t row, const Frame& frame);
  // Writes the per-sample tables, closes, fsyncs and renames to the final name. Every row must be written.
  void commit();

 private:
  std::string final_path_, temp_path_;
  ShardMeta meta_;
  std::int64_t n_;
  h5::Hid file_, rgb_, class_, instance_, depth_;
  std::vector<bool> written_;
  std::vector<std::string> world_, variation_;
  std::vector<std::int32_t> frame_, camera_;
  std::vector<double> intrinsics_;
  std::vector<std::vector<shard::ObjectRow>> objects_;
  bool committed_ = false;
};

}  // namespace sdn::data

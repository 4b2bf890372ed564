// `sdn pack`: decodes a vKITTI tree (either layout) once, in parallel, into HDF5 shards + an index file.
// Shards appear under their final names only when complete; the index is written last, so a reader never
// sees a shard set that is only partly there.
#pragma once

#include <cstdint>
#include <string>

namespace sdn::data {

struct PackOptions {
  std::string src;            // vKITTI root (layout auto-detected)
  std::string out;            // output directory
  std::string split = "train";  // train | test | all (3D-SDN split by frame ranges)
  int shards = 0;             // 0: one shard per ~2 GiB of pixels
  int camera = 0;             // 0 left, 1 right (2.0.3 only)
  int threads = 2;            // decoding threads
  bool progress = true;
};

struct PackResult {
  std::int64_t frames = 0;
  int shards = 0;
  std::string index_path;
};

PackResult pack(const PackOptions& options);

// Frames per shard for `n` frames in `shards` shards: near-equal contiguous ranges (pure).
std::int64_t shard_begin(std::int64_t n, int shards, int shard);

}  // namespace sdn::data

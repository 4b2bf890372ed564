// Node-local staging of a shard set (data.stage_to): copies the shards and index of the given splits from the
// shared file system to a node-local directory and checks every copy against the index (size + CRC-32) before
// training reads it. Runs once per node (dist/node_once.hpp coordinates the ranks); copies that are already
// there and check out are kept (a requeued job on the same node), others are replaced. An index written before
// sdn pack recorded CRCs is checked by size only, with a warning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::data {

struct FileChecksum {
  std::int64_t bytes = 0;
  std::int64_t crc32 = 0;  // zlib's CRC-32 (as Python's zlib.crc32), 0..2^32-1
};

// Size and CRC-32 of a whole file. Throws Error naming the file if it cannot be read.
FileChecksum file_checksum(const std::string& path);

struct StageOptions {
  std::string from;                 // the shard directory (data.shards)
  std::string to;                   // the node-local directory (data.stage_to, variables already expanded)
  std::vector<std::string> splits;  // splits whose index and shards are staged (train; eval when evaluating)
};

struct StageResult {
  std::int64_t bytes = 0;         // bytes of the staged set (copied or kept)
  std::int64_t bytes_copied = 0;  // of which copied by this call
  int files_copied = 0;
  int files_kept = 0;             // already staged and matching the index
  int files_replaced = 0;         // of files_copied: a staged copy was there but did not match (damaged, stale)
  bool crc_checked = false;       // every copy was checked by size and CRC-32 (false: by size only, old index)
  double seconds = 0;             // wall time of copy + check
  std::vector<std::string> warnings;  // e.g. an index without CRCs
};

// Copies and checks; afterwards opts.to holds <split>-index.json and every shard it lists, so ShardSet(opts.to,
// split) reads the staged copy. The index is written last: a half-staged directory has no index. Throws Error
// naming the file for a shard whose size or CRC does not match its index (the source is damaged or was
// replaced after packing), and UsageError if `to` is `from` or cannot be created.
StageResult stage_shards(const StageOptions& opts);

}  // namespace sdn::data

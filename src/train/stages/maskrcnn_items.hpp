// The Mask R-CNN stage's frame list: the frames of a split with a car or van instance of more than N pixels
// (the original's vkitti_maskrcnn_{train,test}.json), and its cache. Finding them reads every instance plane of
// every shard, so the list is kept in a small text file in the run directory, keyed by the shard index (file
// names, sample counts, sizes and CRC-32s) and N: a restart reads it back, changed shards recompute it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/items.hpp"
#include "data/shard_set.hpp"

namespace sdn::train {

// The frames of `set` with at least one car or van instance of more than `min_pixels` pixels, as whole-frame
// items in frame order. Reads the class and instance planes of every sample.
std::vector<data::Item> vehicle_frame_items(const data::ShardSet& set, std::int64_t min_pixels);

// Where a run keeps the list of split `split`: RUN/cache/maskrcnn-frames-<split>.txt.
std::string vehicle_items_cache_path(const std::string& run_dir, const std::string& split);

// vehicle_frame_items through the cache file `path` (empty: no cache). A cache whose key matches is used as
// is; otherwise the list is computed and, if `write`, stored atomically. An index without checksums (an old
// `sdn pack`) is never cached: its key could not see a re-pack in place. `from_cache` (optional) tells which.
std::vector<data::Item> cached_vehicle_frame_items(const data::ShardSet& set, std::int64_t min_pixels,
                                                   const std::string& path, bool write, bool* from_cache = nullptr);

}  // namespace sdn::train

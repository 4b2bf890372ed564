// Item datasets: what one draw of the global sampler names when a stage trains on something other than whole
// frames (the derenderer trains on object crops, many per frame, after filters). The list is built once, in a
// deterministic order, so the global order over items stays a function of (seed, epoch) and the loader's position
// stays one integer, exactly as for frames.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "data/shard_format.hpp"

namespace sdn::data {

class ShardSet;

struct Item {
  std::int64_t frame = 0;    // global frame index within the shard set
  std::int32_t object = -1;  // row within that frame's objects (ShardSet::objects order); -1 = the whole frame
};

using ObjectFilter = std::function<bool(const shard::ObjectRow&)>;

// One item per object that `keep` accepts (all objects when `keep` is empty), ordered by frame, then by the
// object's row within the frame. Reads only the object tables, not the pixels.
std::vector<Item> object_items(const ShardSet& shards, const ObjectFilter& keep = {});

}  // namespace sdn::data

// Implements the object item list (see items.hpp).
#include "data/items.hpp"

#include "data/shard_set.hpp"

namespace sdn::data {

std::vector<Item> object_items(const ShardSet& shards, const ObjectFilter& keep) {
  std::vector<Item> items;
  for (std::int64_t f = 0; f < shards.size(); ++f) {
    const auto rows = shards.objects(f);
    for (size_t k = 0; k < rows.size(); ++k)
      if (!keep || keep(rows[k])) items.push_back({f, static_cast<std::int32_t>(k)});
  }
  return items;
}

}  // namespace sdn::data

// Implements assign_buckets and layout_fingerprint (see buckets.hpp).
#include "dist/buckets.hpp"

#include <algorithm>
#include <map>

#include "core/error.hpp"

namespace sdn::dist {
namespace {

struct OpenBucket {
  BucketPlan plan;
  int first_position = 0;  // position of its first member in the reversed order
  bool is_first = true;    // still the first bucket of its kind (uses the small cap)
};

// FNV-1a: stable across platforms and runs, unlike std::hash.
uint64_t mix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xffu;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace

std::vector<BucketPlan> assign_buckets(const std::vector<int64_t>& sizes_bytes, const std::vector<std::string>& kinds,
                                       int64_t cap_bytes, int64_t first_cap_bytes) {
  if (sizes_bytes.size() != kinds.size())
    throw Error("assign_buckets: " + std::to_string(sizes_bytes.size()) + " sizes but " +
                std::to_string(kinds.size()) + " kinds");
  if (cap_bytes <= 0 || first_cap_bytes <= 0)
    throw Error("bucket caps must be positive (cap " + std::to_string(cap_bytes) + " B, first cap " +
                    std::to_string(first_cap_bytes) + " B)",
                "set the reducer's bucket cap to a size such as 25M");

  std::vector<std::pair<int, BucketPlan>> closed;  // (first position, plan)
  std::map<std::string, OpenBucket> open;
  const int n = static_cast<int>(sizes_bytes.size());
  for (int position = 0; position < n; ++position) {
    const int index = n - 1 - position;
    const int64_t size = sizes_bytes[index];
    if (size < 0) throw Error("assign_buckets: parameter " + std::to_string(index) + " has a negative size");
    const std::string& kind = kinds[index];
    auto it = open.find(kind);
    if (it != open.end()) {
      OpenBucket& b = it->second;
      const int64_t cap = b.is_first ? first_cap_bytes : cap_bytes;
      if (b.plan.bytes + size > cap) {
        closed.emplace_back(b.first_position, std::move(b.plan));
        b.plan = BucketPlan{};
        b.is_first = false;
      }
    } else {
      it = open.emplace(kind, OpenBucket{}).first;
    }
    OpenBucket& b = it->second;
    if (b.plan.members.empty()) {
      b.plan.kind = kind;
      b.first_position = position;
    }
    b.plan.members.push_back(index);
    b.plan.bytes += size;
  }
  for (auto& [kind, b] : open)
    if (!b.plan.members.empty()) closed.emplace_back(b.first_position, std::move(b.plan));

  // First positions are unique, so this order is total and identical on every rank.
  std::sort(closed.begin(), closed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<BucketPlan> out;
  out.reserve(closed.size());
  for (auto& [position, plan] : closed) out.push_back(std::move(plan));
  return out;
}

uint64_t layout_fingerprint(const std::vector<BucketPlan>& plan, const std::vector<int64_t>& sizes_bytes) {
  uint64_t h = 1469598103934665603ULL;
  h = mix(h, plan.size());
  for (const auto& b : plan) {
    h = mix(h, b.members.size());
    for (char c : b.kind) h = mix(h, static_cast<unsigned char>(c));
    for (int m : b.members) {
      h = mix(h, static_cast<uint64_t>(m));
      h = mix(h, static_cast<uint64_t>(sizes_bytes.at(static_cast<size_t>(m))));
    }
  }
  return h;
}

}  // namespace sdn::dist

// Bucket assignment for the gradient reducer: a pure function, so the layout is tested directly and is
// identical on every rank (it depends only on the parameter list, never on timing). The layout is fixed for
// the reducer's lifetime (no DDP-style rebuild), which keeps fused-reduction rounding, and so bit-exact
// resume, stable (performance.md §7).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sdn::dist {

constexpr int64_t kDefaultBucketCapBytes = 25LL << 20;       // DDP's kDefaultBucketBytesCap
constexpr int64_t kDefaultFirstBucketCapBytes = 1LL << 20;   // DDP's kDefaultFirstBucketBytes

struct BucketPlan {
  std::vector<int> members;  // parameter indices, in packing order (reverse parameter order)
  int64_t bytes = 0;         // sum of the members' sizes
  std::string kind;          // dtype/device key shared by all members
};

// Packs parameters into buckets.
//   sizes_bytes[i], kinds[i]: gradient size and dtype/device key (e.g. "float@cpu") of parameter i, in
//   registration order. Parameters are visited in REVERSE order because backward produces gradients
//   roughly last layer first, so the first bucket fills first and its all-reduce starts early.
//   Each kind has its own open bucket (buckets never mix dtypes or devices). A parameter that would push
//   its bucket past the cap closes that bucket first, so every bucket is <= its cap unless it holds a
//   single larger tensor. The first bucket of each kind uses first_cap_bytes: the last gradients of
//   backward (first layers) then do not wait in a large bucket.
//   Buckets are ordered by the reverse-order position of their first member: the order of readiness, and
//   the order in which every rank launches them.
// Throws sdn::Error on size mismatch, a negative size, or a non-positive cap.
std::vector<BucketPlan> assign_buckets(const std::vector<int64_t>& sizes_bytes, const std::vector<std::string>& kinds,
                                       int64_t cap_bytes = kDefaultBucketCapBytes,
                                       int64_t first_cap_bytes = kDefaultFirstBucketCapBytes);

// A 64-bit fingerprint of a layout (members, sizes, kinds) for the cross-rank consistency check.
uint64_t layout_fingerprint(const std::vector<BucketPlan>& plan, const std::vector<int64_t>& sizes_bytes);

}  // namespace sdn::dist

// Bucket assignment (dist/buckets.hpp): coverage, reverse order, caps, dtype separation, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "core/error.hpp"
#include "dist/buckets.hpp"

namespace sdn::dist {
namespace {

// Every parameter index appears in exactly one bucket.
void expect_exact_cover(const std::vector<BucketPlan>& plan, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& b : plan)
    for (int m : b.members) {
      ASSERT_GE(m, 0);
      ASSERT_LT(static_cast<size_t>(m), n);
      ++seen[static_cast<size_t>(m)];
    }
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "parameter " << i;
}

TEST(DistBuckets, SingleKindIsReverseOrderAndContiguous) {
  const std::vector<int64_t> sizes = {400, 400, 400, 400, 400, 400};
  const std::vector<std::string> kinds(6, "Float@cpu");
  const auto plan = assign_buckets(sizes, kinds, /*cap_bytes=*/1000, /*first_cap_bytes=*/500);
  expect_exact_cover(plan, sizes.size());
  // First bucket: cap 500 -> one tensor (5). Then cap 1000 -> pairs (4,3), (2,1), then (0).
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].members, (std::vector<int>{5}));
  EXPECT_EQ(plan[1].members, (std::vector<int>{4, 3}));
  EXPECT_EQ(plan[2].members, (std::vector<int>{2, 1}));
  EXPECT_EQ(plan[3].members, (std::vector<int>{0}));
  // Flattened, the buckets visit the parameters in exactly reverse order.
  std::vector<int> flat;
  for (const auto& b : plan) flat.insert(flat.end(), b.members.begin(), b.members.end());
  EXPECT_EQ(flat, (std::vector<int>{5, 4, 3, 2, 1, 0}));
}

TEST(DistBuckets, CapsHoldUnlessOneTensorIsLarger) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> size(0, 3000);
  std::vector<int64_t> sizes(200);
  for (auto& s : sizes) s = size(rng);
  sizes[17] = 50000;  // larger than any cap: must sit alone
  const std::vector<std::string> kinds(sizes.size(), "Float@cpu");
  const int64_t cap = 8000;
  const int64_t first_cap = 2000;
  const auto plan = assign_buckets(sizes, kinds, cap, first_cap);
  expect_exact_cover(plan, sizes.size());
  int64_t total = 0;
  for (size_t b = 0; b < plan.size(); ++b) {
    int64_t bytes = 0;
    for (int m : plan[b].members) bytes += sizes[static_cast<size_t>(m)];
    EXPECT_EQ(bytes, plan[b].bytes);
    total += bytes;
    const int64_t limit = b == 0 ? first_cap : cap;
    if (plan[b].members.size() > 1) {
      EXPECT_LE(bytes, limit) << "bucket " << b;
    }
    if (std::find(plan[b].members.begin(), plan[b].members.end(), 17) != plan[b].members.end()) {
      EXPECT_EQ(plan[b].members.size(), 1u);
    }
  }
  EXPECT_EQ(total, std::accumulate(sizes.begin(), sizes.end(), int64_t{0}));
  // Greedy packing: a bucket closed early would have had room for the next tensor of its kind.
  for (size_t b = 0; b + 1 < plan.size(); ++b) {
    const int64_t limit = b == 0 ? first_cap : cap;
    const int next = plan[b + 1].members.front();
    EXPECT_GT(plan[b].bytes + sizes[static_cast<size_t>(next)], limit) << "bucket " << b << " closed too early";
  }
}

TEST(DistBuckets, NeverMixesKindsAndFirstCapIsPerKind) {
  // Interleaved float and half parameters, as a model with a half-precision head might have.
  std::vector<int64_t> sizes;
  std::vector<std::string> kinds;
  for (int i = 0; i < 20; ++i) {
    sizes.push_back(100);
    kinds.push_back(i % 2 ? "Half@cuda" : "Float@cuda");
  }
  const auto plan = assign_buckets(sizes, kinds, /*cap_bytes=*/300, /*first_cap_bytes=*/100);
  expect_exact_cover(plan, sizes.size());
  std::map<std::string, int> first_seen;
  for (const auto& b : plan) {
    std::set<std::string> member_kinds;
    for (int m : b.members) member_kinds.insert(kinds[static_cast<size_t>(m)]);
    ASSERT_EQ(member_kinds.size(), 1u);
    EXPECT_EQ(*member_kinds.begin(), b.kind);
    if (!first_seen.count(b.kind)) {
      first_seen[b.kind] = 1;
      EXPECT_EQ(b.members.size(), 1u) << "first bucket of " << b.kind << " uses the first cap";
    }
    // Within a bucket, members are in decreasing index (reverse) order.
    EXPECT_TRUE(std::is_sorted(b.members.rbegin(), b.members.rend()));
  }
  // Buckets are ordered by the reverse position of their first member, i.e. by decreasing first index.
  for (size_t b = 0; b + 1 < plan.size(); ++b) EXPECT_GT(plan[b].members.front(), plan[b + 1].members.front());
}

TEST(DistBuckets, DeterministicAndFingerprintSensitive) {
  std::vector<int64_t> sizes = {10, 20, 30, 40, 50};
  std::vector<std::string> kinds(5, "Float@cpu");
  const auto a = assign_buckets(sizes, kinds, 60, 20);
  const auto b = assign_buckets(sizes, kinds, 60, 20);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].members, b[i].members);
  EXPECT_EQ(layout_fingerprint(a, sizes), layout_fingerprint(b, sizes));
  auto other_sizes = sizes;
  other_sizes[2] = 31;
  EXPECT_NE(layout_fingerprint(assign_buckets(other_sizes, kinds, 60, 20), other_sizes), layout_fingerprint(a, sizes));
  EXPECT_NE(layout_fingerprint(assign_buckets(sizes, kinds, 70, 20), sizes), layout_fingerprint(a, sizes));
}

TEST(DistBuckets, EmptyAndBadInput) {
  EXPECT_TRUE(assign_buckets({}, {}).empty());
  EXPECT_THROW(assign_buckets({1, 2}, {"Float@cpu"}), Error);
  EXPECT_THROW(assign_buckets({1}, {"Float@cpu"}, 0, 1), Error);
  EXPECT_THROW(assign_buckets({-1}, {"Float@cpu"}), Error);
}

TEST(DistBuckets, DefaultCapsMatchDdp) {
  EXPECT_EQ(kDefaultBucketCapBytes, 25 * 1024 * 1024);
  EXPECT_EQ(kDefaultFirstBucketCapBytes, 1024 * 1024);
}

}  // namespace
}  // namespace sdn::dist

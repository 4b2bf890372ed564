// Item datasets and samples with objects: the object table read with Fields::objects, the deterministic
// object_items order and filter, and the loader over items — global batches independent of the number of ranks,
// exact and elastic resume at a position, 1 and 2 ranks covering the same items.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/items.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "data/shard_writer.hpp"

namespace fsys = std::filesystem;
using namespace sdn;
using namespace sdn::data;

namespace {

constexpr int kW = 24, kH = 16;

// Frame `index` has index % 4 objects; object k has track id 10 index + k, occupancy k / 4 and a box that
// encodes both, so a mixed-up row is visible.
Frame make_frame(int index) {
  Frame f;
  f.world = "0001";
  f.variation = "clone";
  f.index = index;
  f.width = kW, f.height = kH;
  const size_t px = static_cast<size_t>(kW) * kH;
  f.rgb.assign(px * 3, static_cast<std::uint8_t>(index));
  f.classes.assign(px, 5);
  f.instance.assign(px, 0);
  f.depth.assign(px, 100);
  for (int k = 0; k < index % 4; ++k) {
    ObjectGT o;
    o.track_id = 10 * index + k;
    o.class_id = k % 2 ? 12 : 2;
    o.left = static_cast<float>(k), o.top = 1, o.right = static_cast<float>(k + 3), o.bottom = 4;
    o.x3d = 0.5f * k, o.y3d = 1.5f, o.z3d = 10.0f + index;
    o.rotation_y = 0.25f * k, o.alpha = -0.5f;
    o.truncation = 0.1f * k, o.occupancy = 0.25f * k;
    f.objects.push_back(o);
  }
  f.K = {700.0 + index, 701.0, 11.5, 7.5};
  return f;
}

std::string write_set(const std::string& name, int n, int shards) {
  auto dir = fsys::path(::testing::TempDir()) / name;
  fsys::remove_all(dir);
  fsys::create_directories(dir);
  ShardIndex index;
  index.split = "train";
  index.source_layout = "vkitti1";
  index.width = kW, index.height = kH;
  for (int s = 0; s < shards; ++s) {
    const int b = n * s / shards, e = n * (s + 1) / shards;
    const std::string file = shard::shard_file_name("train", s, shards);
    ShardWriter w((dir / file).string(), {"vkitti1", "train", kW, kH, s, shards}, e - b);
    for (int i = b; i < e; ++i) w.write(i - b, make_frame(i));
    w.commit();
    index.files.push_back(file);
    index.counts.push_back(e - b);
  }
  fs::write_atomic((dir / shard::index_file_name("train")).string(), index_to_json(index));
  return dir.string();
}

LoaderOptions item_options(std::shared_ptr<const std::vector<Item>> items, int rank, int world) {
  LoaderOptions o;
  o.rank = rank, o.world = world, o.global_batch = 4, o.seed = 9, o.threads = 2;
  o.fields = {true, false, false, false, false};
  o.aug.short_sides = {8, 12};
  o.items = std::move(items);
  return o;
}

// Item indices of the next `steps` global batches, gathered over every rank's loader in rank order.
std::vector<std::vector<std::int64_t>> global_items(std::vector<std::unique_ptr<Loader>>& loaders, int steps) {
  std::vector<std::vector<std::int64_t>> out;
  for (int s = 0; s < steps; ++s) {
    std::vector<std::int64_t> ids;
    for (auto& l : loaders)
      for (auto& micro : l->next().micro)
        for (auto& x : micro) ids.push_back(x.item);
    out.push_back(ids);
  }
  return out;
}

}  // namespace

TEST(Items, SamplesCarryObjectsAndIntrinsicsWhenAsked) {
  ShardSet set(write_set("objects", 7, 3), "train");
  Sample s;
  for (int i = 0; i < 7; ++i) {
    set.read(i, {true, false, false, false, true}, s);
    const Frame f = make_frame(i);
    ASSERT_EQ(s.objects.size(), f.objects.size()) << i;
    for (size_t k = 0; k < s.objects.size(); ++k) {
      EXPECT_EQ(s.objects[k].track_id, f.objects[k].track_id);
      EXPECT_EQ(s.objects[k].class_id, f.objects[k].class_id);
      EXPECT_EQ(s.objects[k].right, f.objects[k].right);
      EXPECT_EQ(s.objects[k].rotation_y, f.objects[k].rotation_y);
      EXPECT_EQ(s.objects[k].occupancy, f.objects[k].occupancy);
    }
    EXPECT_EQ(s.K.fx, 700.0 + i);
    EXPECT_EQ(s.K.cy, 7.5);
  }
  set.read(3, {true, false, false, false, false}, s);  // not asked: no objects, default intrinsics
  EXPECT_TRUE(s.objects.empty());
  EXPECT_EQ(s.K.fx, Intrinsics{}.fx);
}

TEST(Items, ObjectItemsAreOrderedByFrameThenRowAndFiltered) {
  ShardSet set(write_set("items_order", 9, 2), "train");
  const auto all = object_items(set);
  std::vector<std::pair<std::int64_t, std::int32_t>> got, want;
  for (const Item& it : all) got.emplace_back(it.frame, it.object);
  for (int f = 0; f < 9; ++f)
    for (int k = 0; k < f % 4; ++k) want.emplace_back(f, k);
  EXPECT_EQ(got, want);
  const auto vans = object_items(set, [](const shard::ObjectRow& r) { return r.class_id == 12 && r.occupancy > 0.2f; });
  ASSERT_FALSE(vans.empty());
  for (const Item& it : vans) {
    EXPECT_EQ(it.object % 2, 1);  // odd rows are vans
    EXPECT_EQ(set.objects(it.frame)[static_cast<size_t>(it.object)].class_id, 12);
  }
}

TEST(Items, LoaderHandsOutTheItemsFrameAndObject) {
  ShardSet set(write_set("items_loader", 12, 2), "train");
  auto items = std::make_shared<const std::vector<Item>>(object_items(set));
  std::vector<std::unique_ptr<Loader>> one;
  one.push_back(std::make_unique<Loader>(set, item_options(items, 0, 1), 0));
  ASSERT_EQ(one[0]->sampler().steps_per_epoch(), static_cast<std::int64_t>(items->size()) / 4);
  for (int step = 0; step < 5; ++step)
    for (auto& micro : one[0]->next().micro)
      for (auto& s : micro) {
        const Item& it = (*items)[static_cast<size_t>(s.item)];
        EXPECT_EQ(s.index, it.frame);
        EXPECT_EQ(s.object, it.object);
        ASSERT_LT(s.object, static_cast<std::int32_t>(s.objects.size()));  // objects read although not asked
        EXPECT_EQ(s.objects[static_cast<size_t>(s.object)].track_id, 10 * it.frame + it.object);
      }
}

TEST(Items, GlobalBatchesDoNotDependOnTheNumberOfRanks) {
  ShardSet set(write_set("items_ranks", 16, 3), "train");
  auto items = std::make_shared<const std::vector<Item>>(object_items(set));
  const auto n = static_cast<std::int64_t>(items->size());
  GlobalSampler reference({n, 4, 9, true});
  const int steps = static_cast<int>(2 * reference.steps_per_epoch() + 1);  // crosses two epoch boundaries
  for (int world : {1, 2, 4}) {
    std::vector<std::unique_ptr<Loader>> loaders;
    for (int r = 0; r < world; ++r) loaders.push_back(std::make_unique<Loader>(set, item_options(items, r, world), 0));
    const auto got = global_items(loaders, steps);
    for (int s = 0; s < steps; ++s) EXPECT_EQ(got[static_cast<size_t>(s)], reference.global_batch(s)) << "world " << world;
  }
  // 1 and 2 ranks cover the same items over an epoch, each exactly once.
  for (int world : {1, 2}) {
    std::vector<std::unique_ptr<Loader>> loaders;
    for (int r = 0; r < world; ++r) loaders.push_back(std::make_unique<Loader>(set, item_options(items, r, world), 0));
    std::multiset<std::int64_t> seen;
    for (const auto& b : global_items(loaders, static_cast<int>(reference.steps_per_epoch()))) seen.insert(b.begin(), b.end());
    EXPECT_EQ(seen.size(), static_cast<size_t>(reference.steps_per_epoch() * 4));
    EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()).size(), seen.size()) << "an item came twice";
  }
}

TEST(Items, ResumeExactlyAndElasticallyAtAPosition) {
  ShardSet set(write_set("items_resume", 14, 2), "train");
  auto items = std::make_shared<const std::vector<Item>>(object_items(set));
  std::vector<std::unique_ptr<Loader>> full;
  full.push_back(std::make_unique<Loader>(set, item_options(items, 0, 1), 0));
  const auto reference = global_items(full, 9);
  // Pixels too: augmentation is keyed by the item, so a resumed run gets the same crops.
  std::vector<std::vector<std::uint8_t>> first_pixels;
  {
    Loader l(set, item_options(items, 0, 1), 4 * 4);
    const RankBatch b = l.next();
    for (auto& s : b.micro[0]) first_pixels.push_back(s.rgb);
  }
  for (int world : {1, 2}) {  // resumed on the same or a different number of ranks
    for (int start : {1, 4, 7}) {
      std::vector<std::unique_ptr<Loader>> loaders;
      for (int r = 0; r < world; ++r)
        loaders.push_back(std::make_unique<Loader>(set, item_options(items, r, world), start * 4));
      EXPECT_EQ(loaders[0]->position(), start * 4);
      const auto got = global_items(loaders, 9 - start);
      for (int s = start; s < 9; ++s)
        EXPECT_EQ(got[static_cast<size_t>(s - start)], reference[static_cast<size_t>(s)])
            << "world " << world << " resumed at " << start;
    }
  }
  Loader again(set, item_options(items, 0, 1), 4 * 4);
  const RankBatch b = again.next();
  size_t k = 0;
  for (auto& s : b.micro[0]) EXPECT_EQ(s.rgb, first_pixels[k++]);
}

TEST(Items, BadItemListsGiveOneClearError) {
  ShardSet set(write_set("items_bad", 4, 1), "train");
  auto message = [&](std::vector<Item> v) {
    try {
      Loader l(set, item_options(std::make_shared<const std::vector<Item>>(std::move(v)), 0, 1), 0);
      l.next();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({}).find("the item list is empty"), std::string::npos);
  EXPECT_NE(message({{0, -1}, {1, 0}, {2, 0}, {9, 0}}).find("item 3 names frame 9"), std::string::npos);
  EXPECT_NE(message({{1, 0}, {1, 0}, {1, 0}, {1, 5}}).find("which has 1 objects"), std::string::npos);
}

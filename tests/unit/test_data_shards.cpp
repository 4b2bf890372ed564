// Shards, sampler, loader and augmentation: the write/read contract of the shard schema, the rank-independent
// global order (W = 1..4 simulated in one process), exact resume, and the bad-input errors of each.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/h5.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "data/shard_writer.hpp"

namespace fsys = std::filesystem;
using namespace sdn;
using namespace sdn::data;

namespace {

// A small frame whose pixels encode its index, so a mixed-up row is visible.
Frame make_frame(int index, int w = 24, int h = 16) {
  Frame f;
  f.world = index % 2 ? "0006" : "0001";
  f.variation = "clone";
  f.index = index;
  f.width = w;
  f.height = h;
  const size_t px = static_cast<size_t>(w) * h;
  f.rgb.resize(px * 3);
  f.classes.resize(px);
  f.instance.resize(px);
  f.depth.resize(px);
  for (size_t i = 0; i < px; ++i) {
    f.rgb[i * 3] = static_cast<std::uint8_t>(index);
    f.rgb[i * 3 + 1] = static_cast<std::uint8_t>(i);
    f.rgb[i * 3 + 2] = static_cast<std::uint8_t>(i / 7);
    f.classes[i] = static_cast<std::uint8_t>((i + index) % 14);
    f.instance[i] = static_cast<std::uint16_t>(i % 3 == 0 ? index + 1 : 0);
    f.depth[i] = static_cast<std::uint16_t>(i % 5 == 0 ? 65535 : 100 * index + i);
  }
  ObjectGT o;
  o.track_id = index;
  o.class_id = 2;
  o.left = 1, o.top = 2, o.right = 10, o.bottom = 12;
  o.z3d = 10.5f + index;
  o.occupancy = 0.5f;
  f.objects.assign(static_cast<size_t>(index % 3), o);
  f.K.fx = 700 + index;
  return f;
}

// Writes `n` frames into `shards` shards + index under a fresh dir; returns the dir.
std::string write_set(const std::string& name, int n, int shards) {
  auto dir = fsys::path(::testing::TempDir()) / name;
  fsys::remove_all(dir);
  fsys::create_directories(dir);
  ShardIndex index;
  index.split = "train";
  index.source_layout = "vkitti1";
  index.width = 24;
  index.height = 16;
  for (int s = 0; s < shards; ++s) {
    int b = n * s / shards, e = n * (s + 1) / shards;
    std::string file = shard::shard_file_name("train", s, shards);
    ShardWriter w((dir / file).string(), {"vkitti1", "train", 24, 16, s, shards}, e - b);
    for (int i = e - 1; i >= b; --i) w.write(i - b, make_frame(i));  // out of order on purpose
    w.commit();
    index.files.push_back(file);
    index.counts.push_back(e - b);
  }
  fs::write_atomic((dir / shard::index_file_name("train")).string(), index_to_json(index));
  return dir.string();
}

std::string error_text(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Shards, RoundTripAllFieldsAcrossShards) {
  auto dir = write_set("rt", 7, 3);
  ShardSet set(dir, "train");
  ASSERT_EQ(set.size(), 7);
  Sample s;
  for (int i = 0; i < 7; ++i) {
    set.read(i, {true, true, true, true}, s);
    Frame f = make_frame(i);
    EXPECT_EQ(s.rgb, f.rgb) << i;
    EXPECT_EQ(s.classes, f.classes) << i;
    EXPECT_EQ(s.instance, f.instance) << i;
    EXPECT_EQ(s.depth, f.depth) << i;
    auto info = set.info(i);
    EXPECT_EQ(info.world, f.world);
    EXPECT_EQ(info.frame, i);
    auto objs = set.objects(i);
    ASSERT_EQ(objs.size(), f.objects.size());
    for (const auto& o : objs) EXPECT_FLOAT_EQ(o.z3d, 10.5f + i);
  }
  set.read(3, {true, false, false, false}, s);
  EXPECT_TRUE(s.classes.empty());
  EXPECT_EQ(s.rgb.size(), 24u * 16 * 3);
}

TEST(Shards, SchemaAttributesArePresent) {
  auto dir = write_set("attrs", 2, 1);
  std::string path = dir + "/" + shard::shard_file_name("train", 0, 1);
  auto f = h5::open_read(path);
  EXPECT_EQ(h5::get_attr_int(f, "format_version", path), shard::kFormatVersion);
  EXPECT_EQ(h5::get_attr_string(f, "source_layout", path), "vkitti1");
  EXPECT_EQ(h5::get_attr_string(f, "split", path), "train");
  EXPECT_EQ(h5::get_attr_strings(f, "class_names", path).size(), 14u);
  EXPECT_EQ(h5::get_attr_ints(f, "class_colors", path).size(), 42u);
  auto rgb = h5::open_dataset(f, "/rgb", path);
  EXPECT_EQ(h5::dims(rgb), (std::vector<hsize_t>{2, 16, 24, 3}));
}

TEST(Shards, UncommittedWriterLeavesNothingBehind) {
  auto dir = fsys::path(::testing::TempDir()) / "uncommitted";
  fsys::remove_all(dir);
  fsys::create_directories(dir);
  {
    ShardWriter w((dir / "train-00000-of-00001.h5").string(), {"vkitti1", "train", 24, 16, 0, 1}, 2);
    w.write(0, make_frame(0));
  }  // destroyed without commit, as when packing fails half-way
  EXPECT_TRUE(fsys::is_empty(dir));
}

TEST(Shards, WrongFrameSizeNamesTheFrame) {
  auto dir = fsys::path(::testing::TempDir()) / "wrongsize";
  fsys::create_directories(dir);
  ShardWriter w((dir / "x.h5").string(), {"vkitti1", "train", 24, 16, 0, 1}, 1);
  auto err = error_text([&] { w.write(0, make_frame(3, 20, 16)); });
  EXPECT_NE(err.find("frame 0006/clone/3 (camera 0) is 20x16 but the shard holds 24x16"), std::string::npos) << err;
}

TEST(Shards, BadSetsGiveOneClearError) {
  auto missing = error_text([] { ShardSet s(::testing::TempDir() + "/nowhere", "train"); });
  EXPECT_NE(missing.find("no shards of split 'train'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("sdn pack"), std::string::npos) << missing;

  auto dir = write_set("badver", 2, 1);
  std::string path = dir + "/" + shard::shard_file_name("train", 0, 1);
  {
    auto f = h5::Hid(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    h5::set_attr(f, "format_version", std::int64_t{99});
  }
  auto ver = error_text([&] { ShardSet s(dir, "train"); });
  EXPECT_NE(ver.find(path + " has format version 99; this sdn reads 1"), std::string::npos) << ver;

  auto dir2 = write_set("truncated", 2, 1);
  std::string p2 = dir2 + "/" + shard::shard_file_name("train", 0, 1);
  fsys::resize_file(p2, 100);
  auto trunc = error_text([&] { ShardSet s(dir2, "train"); });
  EXPECT_NE(trunc.find(p2), std::string::npos) << trunc;

  auto dir3 = write_set("badindex", 2, 1);
  std::ofstream(dir3 + "/train-index.json") << "{\"format_version\": 1, \"split\": ";
  auto idx = error_text([&] { ShardSet s(dir3, "train"); });
  EXPECT_NE(idx.find("train-index.json is malformed"), std::string::npos) << idx;

  auto dir4 = write_set("lostshard", 4, 2);
  fsys::remove(dir4 + "/" + shard::shard_file_name("train", 1, 2));
  auto lost = error_text([&] { ShardSet s(dir4, "train"); });
  EXPECT_NE(lost.find("train-00001-of-00002.h5 listed in"), std::string::npos) << lost;
}

TEST(Sampler, RanksAreDisjointAndCoverEveryGlobalBatch) {
  GlobalSampler sampler({/*num_samples=*/50, /*global_batch=*/12, /*seed=*/7, true});
  EXPECT_EQ(sampler.steps_per_epoch(), 4);
  for (int world = 1; world <= 4; ++world) {
    for (int micro = 1; micro <= 3; ++micro) {
      if (12 % (world * micro)) continue;
      for (std::int64_t step = 0; step < 8; ++step) {
        auto batch = sampler.global_batch(step);
        std::vector<std::int64_t> joined;
        for (int r = 0; r < world; ++r)
          for (int m = 0; m < micro; ++m) {
            auto s = rank_slice(12, r, world, m, micro);
            joined.insert(joined.end(), batch.begin() + s.begin, batch.begin() + s.end);
          }
        EXPECT_EQ(joined, batch) << "world " << world << " micro " << micro;  // disjoint, complete, in order
      }
    }
  }
  EXPECT_THROW(rank_slice(12, 0, 5, 0, 1), UsageError);
}

TEST(Sampler, EachEpochVisitsDistinctSamplesAndEpochsDiffer) {
  GlobalSampler sampler({50, 12, 7, true});
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<std::int64_t> seen;
    for (std::int64_t s = 0; s < 4; ++s)
      for (auto i : sampler.global_batch(epoch * 4 + s)) EXPECT_TRUE(seen.insert(i).second);
    EXPECT_EQ(seen.size(), 48u);
  }
  EXPECT_NE(sampler.epoch_order(0), sampler.epoch_order(1));
  GlobalSampler again({50, 12, 7, true});
  EXPECT_EQ(again.epoch_order(1), sampler.epoch_order(1));
  GlobalSampler other_seed({50, 12, 8, true});
  EXPECT_NE(other_seed.epoch_order(0), sampler.epoch_order(0));
  GlobalSampler ordered({50, 12, 7, false});
  EXPECT_EQ(ordered.global_batch(1).front(), 12);
}

TEST(Loader, RanksTogetherYieldTheGlobalBatchWhateverTheWorldSize) {
  auto dir = write_set("loader", 20, 2);
  ShardSet set(dir, "train");
  for (int world : {1, 2, 4}) {
    std::vector<std::unique_ptr<Loader>> loaders;
    for (int r = 0; r < world; ++r) {
      LoaderOptions o;
      o.rank = r, o.world = world, o.global_batch = 4, o.seed = 3, o.threads = 2;
      o.aug.short_sides = {8, 16};
      o.aug.max_long_side = 64;
      loaders.push_back(std::make_unique<Loader>(set, o, 0));
    }
    GlobalSampler reference({20, 4, 3, true});
    for (int step = 0; step < 12; ++step) {  // crosses two epoch boundaries
      std::vector<std::int64_t> got;
      for (auto& l : loaders)
        for (auto& micro : l->next().micro)
          for (auto& s : micro) got.push_back(s.index);
      EXPECT_EQ(got, reference.global_batch(step)) << "world " << world << " step " << step;
    }
  }
}

TEST(Loader, AugmentationDependsOnlyOnSeedEpochAndSample) {
  auto dir = write_set("loader_aug", 8, 1);
  ShardSet set(dir, "train");
  auto collect = [&](int world, int threads) {
    std::map<std::int64_t, std::vector<std::uint8_t>> out;
    for (int r = 0; r < world; ++r) {
      LoaderOptions o;
      o.rank = r, o.world = world, o.global_batch = 4, o.seed = 11, o.threads = threads;
      o.aug.short_sides = {8, 12, 16};
      o.aug.max_long_side = 64;
      Loader l(set, o, 0);
      for (int step = 0; step < 2; ++step)
        for (auto& micro : l.next().micro)
          for (auto& s : micro) {
            out[s.index] = s.rgb;
            out[s.index].insert(out[s.index].end(), s.classes.begin(), s.classes.end());
          }
    }
    return out;
  };
  auto one = collect(1, 1);
  EXPECT_EQ(one.size(), 8u);
  EXPECT_EQ(one, collect(2, 3));
  EXPECT_EQ(one, collect(4, 2));
}

TEST(Loader, ResumeAtAnyStepEqualsTheUninterruptedRun) {
  auto dir = write_set("loader_resume", 12, 2);
  ShardSet set(dir, "train");
  LoaderOptions o;
  o.global_batch = 3, o.seed = 5, o.threads = 2, o.micro_batches = 3;
  o.aug.short_sides = {8};
  std::vector<std::vector<std::int64_t>> full;
  {
    Loader l(set, o, 0);
    for (int s = 0; s < 10; ++s) {
      std::vector<std::int64_t> ids;
      for (auto& m : l.next().micro)
        for (auto& x : m) ids.push_back(x.index);
      full.push_back(ids);
    }
    EXPECT_EQ(l.position(), 30);
  }
  for (int start = 1; start < 10; start += 3) {
    Loader l(set, o, start * 3);
    for (int s = start; s < 10; ++s) {
      std::vector<std::int64_t> ids;
      auto b = l.next();
      EXPECT_EQ(b.step, s);
      for (auto& m : b.micro)
        for (auto& x : m) ids.push_back(x.index);
      EXPECT_EQ(ids, full[static_cast<size_t>(s)]) << "resumed at " << start << ", step " << s;
    }
  }
  EXPECT_THROW(Loader(set, o, 4), Error);  // not a step boundary
}

TEST(Augment, LabelsStayLabelsAndPrimitivesBehave) {
  std::vector<std::uint8_t> labels = {1, 2, 3, 4, 5, 6};
  auto up = resize_nearest(labels, 3, 2, 7, 5);
  for (auto v : up) EXPECT_TRUE(v >= 1 && v <= 6);
  auto flipped = labels;
  flip_horizontal(flipped, 3, 2);
  EXPECT_EQ(flipped, (std::vector<std::uint8_t>{3, 2, 1, 6, 5, 4}));
  flip_horizontal(flipped, 3, 2);
  EXPECT_EQ(flipped, labels);
  std::vector<std::uint8_t> rgb = {10, 200, 30, 250, 0, 128};
  auto same = rgb;
  int order[4] = {3, 2, 1, 0};
  color_jitter(same, 1.0, 1.0, 1.0, 0.0, order);
  EXPECT_EQ(same, rgb);
  auto bright = rgb;
  color_jitter(bright, 1.2, 1.0, 1.0, 0.0, order);
  EXPECT_EQ(bright[0], 12);
  EXPECT_EQ(bright[3], 255);  // clamped
  auto grey = rgb;
  color_jitter(grey, 1.0, 1.0, 0.0, 0.0, order);  // saturation 0: grey pixels
  EXPECT_EQ(grey[0], grey[1]);
  EXPECT_EQ(grey[1], grey[2]);
  auto hue = rgb;
  color_jitter(hue, 1.0, 1.0, 1.0, 0.5, order);  // half-turn hue: red <-> cyan-ish, value kept
  EXPECT_NE(hue, rgb);
}

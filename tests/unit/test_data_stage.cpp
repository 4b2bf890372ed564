// Node-local staging (data/stage_copy.hpp): the staged copy reads like the original; the index records size and
// CRC at pack time and old indexes still load; a corrupt byte in a source shard is a clear error naming the file;
// a staged copy that checks out is kept, a damaged one replaced; an index without CRCs is checked by size.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/shard_set.hpp"
#include "data/shard_writer.hpp"
#include "data/stage_copy.hpp"

namespace fsys = std::filesystem;
using namespace sdn;
using namespace sdn::data;

namespace {

Frame tiny_frame(int index) {
  Frame f;
  f.world = "0001";
  f.variation = "clone";
  f.index = index;
  f.width = 8;
  f.height = 4;
  f.rgb.assign(8 * 4 * 3, static_cast<std::uint8_t>(index * 3));
  f.classes.assign(8 * 4, static_cast<std::uint8_t>(index % 14));
  f.instance.assign(8 * 4, 0);
  f.depth.assign(8 * 4, static_cast<std::uint16_t>(100 + index));
  return f;
}

// Two real shards of `split` with an index; `checksums` false writes an index as sdn did before the CRCs.
std::string write_split(const fsys::path& dir, const std::string& split, bool checksums) {
  fsys::create_directories(dir);
  ShardIndex index;
  index.split = split;
  index.source_layout = "vkitti1";
  index.width = 8;
  index.height = 4;
  for (int s = 0; s < 2; ++s) {
    const std::string file = shard::shard_file_name(split, s, 2);
    ShardWriter w((dir / file).string(), {"vkitti1", split, 8, 4, s, 2}, 3);
    for (int i = 0; i < 3; ++i) w.write(i, tiny_frame(3 * s + i));
    w.commit();
    index.files.push_back(file);
    index.counts.push_back(3);
    const auto c = file_checksum((dir / file).string());
    index.bytes.push_back(checksums ? c.bytes : -1);
    index.crc32.push_back(checksums ? c.crc32 : -1);
  }
  fs::write_atomic((dir / shard::index_file_name(split)).string(), index_to_json(index));
  return (dir / index.files[1]).string();
}

fsys::path fresh(const std::string& name) {
  auto dir = fsys::path(::testing::TempDir()) / ("sdn_stage_" + name);
  fsys::remove_all(dir);
  return dir;
}

void flip_byte(const std::string& path, std::int64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x5a));
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DataStage, IndexChecksumsRoundTripAndOldIndexesStillLoad) {
  ShardIndex x;
  x.split = "train";
  x.source_layout = "vkitti1";
  x.width = 8;
  x.height = 4;
  x.files = {"a.h5", "b.h5"};
  x.counts = {1, 2};
  x.bytes = {10, 20};
  x.crc32 = {4294967295LL, 0};
  const auto back = index_from_json(index_to_json(x), "i.json");
  EXPECT_EQ(back.bytes, x.bytes);
  EXPECT_EQ(back.crc32, x.crc32);
  EXPECT_TRUE(back.has_checksums());
  const auto old = index_from_json(
      R"({"format_version":1,"split":"train","source_layout":"vkitti1","width":8,"height":4,)"
      R"("shards":[{"file":"a.h5","num_samples":1}]})",
      "old.json");
  EXPECT_EQ(old.bytes, (std::vector<std::int64_t>{-1}));
  EXPECT_FALSE(old.has_checksums());
}

TEST(DataStage, CopiesEverySplitAndTheCopyReadsLikeTheOriginal) {
  const auto src = fresh("src_ok"), dst = fresh("dst_ok") / "job_1";
  write_split(src, "train", true);
  write_split(src, "test", true);
  const auto r = stage_shards({src.string(), dst.string(), {"train", "test"}});
  EXPECT_EQ(r.files_copied, 4);
  EXPECT_EQ(r.files_kept, 0);
  EXPECT_EQ(r.bytes, r.bytes_copied);
  EXPECT_GT(r.bytes, 0);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(r.crc_checked);
  EXPECT_EQ(r.files_replaced, 0);
  ShardSet original(src.string(), "train"), staged(dst.string(), "train");
  ASSERT_EQ(staged.size(), original.size());
  Sample a, b;
  for (std::int64_t i = 0; i < staged.size(); ++i) {
    original.read(i, {true, true, true, true}, a);
    staged.read(i, {true, true, true, true}, b);
    EXPECT_EQ(a.rgb, b.rgb);
    EXPECT_EQ(a.depth, b.depth);
  }
  // Same job again (a requeue onto the same node): the checked copies are kept, nothing is copied.
  const auto again = stage_shards({src.string(), dst.string(), {"train", "test"}});
  EXPECT_EQ(again.files_kept, 4);
  EXPECT_EQ(again.bytes_copied, 0);
}

TEST(DataStage, ACorruptSourceByteIsAnErrorNamingTheFile) {
  const auto src = fresh("src_bad"), dst = fresh("dst_bad");
  const std::string shard = write_split(src, "train", true);
  flip_byte(shard, 1000);
  const auto e = error_of([&] { stage_shards({src.string(), dst.string(), {"train"}}); });
  EXPECT_NE(e.find("shard " + shard + " does not match its index"), std::string::npos) << e;
  EXPECT_NE(e.find("CRC-32"), std::string::npos) << e;
  EXPECT_NE(e.find("sdn pack"), std::string::npos) << e;
  EXPECT_FALSE(fsys::exists(dst / shard::index_file_name("train"))) << "a failed staging must not look complete";
  EXPECT_FALSE(fsys::exists(dst / fsys::path(shard).filename())) << "no damaged copy under the final name";
}

TEST(DataStage, ADamagedStagedCopyIsReplaced) {
  const auto src = fresh("src_re"), dst = fresh("dst_re");
  const std::string shard = write_split(src, "train", true);
  stage_shards({src.string(), dst.string(), {"train"}});
  const auto copy = (dst / fsys::path(shard).filename()).string();
  flip_byte(copy, 500);
  const auto r = stage_shards({src.string(), dst.string(), {"train"}});
  EXPECT_EQ(r.files_copied, 1);
  EXPECT_EQ(r.files_kept, 1);
  EXPECT_EQ(r.files_replaced, 1);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("staged copy " + copy + " does not match"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(file_checksum(copy).crc32, file_checksum(shard).crc32);
}

TEST(DataStage, AnIndexWithoutChecksumsIsCheckedBySizeWithAWarning) {
  const auto src = fresh("src_old"), dst = fresh("dst_old");
  write_split(src, "train", false);
  const auto r = stage_shards({src.string(), dst.string(), {"train"}});
  EXPECT_EQ(r.files_copied, 2);
  EXPECT_FALSE(r.crc_checked);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("checked by size only"), std::string::npos) << r.warnings[0];
  EXPECT_NO_THROW(ShardSet(dst.string(), "train"));
}

TEST(DataStage, RefusesTheShardDirectoryItselfAndAMissingSplit) {
  const auto src = fresh("src_self");
  write_split(src, "train", true);
  EXPECT_THROW(stage_shards({src.string(), src.string(), {"train"}}), UsageError);
  const auto e = error_of([&] { stage_shards({src.string(), fresh("dst_missing").string(), {"val"}}); });
  EXPECT_NE(e.find("no shards of split 'val'"), std::string::npos) << e;
}

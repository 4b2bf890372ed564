// Node-local staging across ranks (2 ranks on one node): once_per_node runs the copy on local rank 0 only,
// the other rank waits and gets the same result, and a failed copy is an error on every rank (no hang).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/shard_set.hpp"
#include "data/stage_copy.hpp"
#include "dist/mpi_session.hpp"
#include "dist/node_once.hpp"

namespace fsys = std::filesystem;

namespace sdn::dist {
namespace {

// A directory name both ranks agree on (rank 0's pid), fresh for this test.
fsys::path shared_dir(const Communicator& comm, const std::string& name) {
  int pid = static_cast<int>(::getpid());
  MPI_Bcast(&pid, 1, MPI_INT, 0, comm.comm());
  return fsys::path(::testing::TempDir()) / ("sdn_node_once_" + std::to_string(pid) + "_" + name);
}

// Rank 0 writes a split of two "shards" (staging copies bytes; it never parses them) with sizes and CRCs.
void write_fake_split(const Communicator& comm, const fsys::path& dir) {
  if (comm.rank() == 0) {
    fsys::remove_all(dir);
    fsys::create_directories(dir);
    data::ShardIndex index;
    index.split = "train";
    index.source_layout = "vkitti1";
    index.width = 8;
    index.height = 4;
    for (int s = 0; s < 2; ++s) {
      const std::string file = "train-0000" + std::to_string(s) + "-of-00002.h5";
      std::ofstream((dir / file).string(), std::ios::binary) << std::string(100000 + s, static_cast<char>('a' + s));
      const auto c = data::file_checksum((dir / file).string());
      index.files.push_back(file);
      index.counts.push_back(1);
      index.bytes.push_back(c.bytes);
      index.crc32.push_back(c.crc32);
    }
    fs::write_atomic((dir / "train-index.json").string(), data::index_to_json(index));
  }
  MPI_Barrier(comm.comm());
}

TEST(NodeOnce, LocalRankZeroStagesOnceAndEveryRankReadsTheCopy) {
  Communicator comm;
  const auto src = shared_dir(comm, "src"), dst = shared_dir(comm, "dst");
  write_fake_split(comm, src);
  int ran = 0;
  const std::string payload = once_per_node(comm, [&] {
    ++ran;
    const auto r = data::stage_shards({src.string(), dst.string(), {"train"}});
    return std::to_string(r.files_copied) + " " + std::to_string(r.bytes_copied);
  });
  int runs = 0;
  MPI_Allreduce(&ran, &runs, 1, MPI_INT, MPI_SUM, comm.comm());
  EXPECT_EQ(runs, 1) << "one copy per node (all ranks of this test share one node)";
  EXPECT_EQ(ran, comm.local_rank() == 0 ? 1 : 0);
  EXPECT_EQ(payload, "2 200001") << "every rank gets the copying rank's result";
  for (const char* f : {"train-00000-of-00002.h5", "train-00001-of-00002.h5", "train-index.json"})
    EXPECT_TRUE(fsys::exists(dst / f)) << f << " on rank " << comm.rank();
  EXPECT_EQ(data::file_checksum((dst / "train-00001-of-00002.h5").string()).crc32,
            data::file_checksum((src / "train-00001-of-00002.h5").string()).crc32);
  MPI_Barrier(comm.comm());
  if (comm.rank() == 0) {
    fsys::remove_all(src);
    fsys::remove_all(dst);
  }
}

TEST(NodeOnce, AFailedCopyIsAnErrorOnEveryRankOfTheNode) {
  Communicator comm;
  const auto src = shared_dir(comm, "src_bad"), dst = shared_dir(comm, "dst_bad");
  write_fake_split(comm, src);
  if (comm.rank() == 0) {
    std::fstream f((src / "train-00000-of-00002.h5").string(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(777);
    f.put('Z');
  }
  MPI_Barrier(comm.comm());
  std::string message;
  try {
    once_per_node(comm, [&] {
      data::stage_shards({src.string(), dst.string(), {"train"}});
      return std::string("staged");
    });
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find((src / "train-00000-of-00002.h5").string() + " does not match its index"), std::string::npos)
      << "rank " << comm.rank() << ": " << message;
  if (comm.local_rank() != 0) {
    EXPECT_NE(message.find("local rank 0 of this node failed"), std::string::npos) << message;
  }
  MPI_Barrier(comm.comm());
  if (comm.rank() == 0) {
    fsys::remove_all(src);
    fsys::remove_all(dst);
  }
}

}  // namespace
}  // namespace sdn::dist

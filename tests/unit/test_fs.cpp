// Crash-safe file primitives: atomic replace leaves no temporaries, unwritable dirs give a named error.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace fsys = std::filesystem;

TEST(Fs, WriteAtomicReplacesAndLeavesNoTemporaries) {
  auto dir = fsys::path(::testing::TempDir()) / "fs_atomic";
  fsys::remove_all(dir);
  sdn::fs::ensure_writable_dir(dir.string());
  auto f = (dir / "x.txt").string();
  sdn::fs::write_atomic(f, "one");
  sdn::fs::write_atomic(f, "two");
  EXPECT_EQ(sdn::fs::read_file(f), "two");
  int entries = 0;
  for (auto& e : fsys::directory_iterator(dir)) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1);
}

TEST(Fs, AppendLineDurableAppends) {
  auto f = (fsys::path(::testing::TempDir()) / "journal.jsonl").string();
  fsys::remove(f);
  sdn::fs::append_line_durable(f, "{\"a\":1}");
  sdn::fs::append_line_durable(f, "{\"a\":2}");
  EXPECT_EQ(sdn::fs::read_file(f), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(Fs, UnwritableDirectoryIsNamed) {
  if (geteuid() == 0) {
    // root ignores permission bits; a path under a regular file can never be a directory.
    auto file = (fsys::path(::testing::TempDir()) / "plainfile").string();
    sdn::fs::write_atomic(file, "x");
    try {
      sdn::fs::ensure_writable_dir(file + "/sub");
      FAIL() << "expected an error";
    } catch (const sdn::Error& e) {
      EXPECT_NE(std::string(e.what()).find(file + "/sub"), std::string::npos) << e.what();
    }
    return;
  }
  auto dir = fsys::path(::testing::TempDir()) / "ro";
  fsys::create_directories(dir);
  chmod(dir.c_str(), 0555);
  EXPECT_THROW(sdn::fs::ensure_writable_dir(dir.string()), sdn::Error);
}

TEST(Fs, ReadMissingFileNamesIt) {
  try {
    sdn::fs::read_file("/nonexistent/file.txt");
    FAIL();
  } catch (const sdn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/file.txt"), std::string::npos);
  }
}

// Implements node-local staging (see stage_copy.hpp). Each shard is streamed once: read from the shared
// file system, CRC-32 over the bytes as they pass, written to a temporary name beside its final one, and
// renamed only when size and CRC match the index. No fsync: the copy lives only as long as the job's
// node-local directory, and a node that crashes ends the job anyway.
#include "data/stage_copy.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/shard_format.hpp"
#include "data/shard_set.hpp"

namespace fsys = std::filesystem;

namespace sdn::data {
namespace {

constexpr size_t kBufferBytes = 8u << 20;
const char* kRepack = "the shard was damaged or replaced after packing: re-create the set with `sdn pack`";

class Fd {
 public:
  Fd(const std::string& path, int flags, mode_t mode = 0644) : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

// Reads `fd` to the end, feeding every block to `sink`; returns size and CRC. Throws naming `path`.
template <class Sink>
FileChecksum stream(int fd, const std::string& path, Sink&& sink) {
  std::vector<unsigned char> buf(kBufferBytes);
  uLong crc = ::crc32(0L, Z_NULL, 0);
  FileChecksum c;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("cannot read " + path + ": " + errno_text());
    if (n == 0) break;
    crc = ::crc32(crc, buf.data(), static_cast<uInt>(n));
    c.bytes += n;
    sink(buf.data(), static_cast<size_t>(n));
  }
  c.crc32 = static_cast<std::int64_t>(crc);
  return c;
}

std::string hex(std::int64_t crc) {
  char b[24];
  std::snprintf(b, sizeof b, "%08llx", static_cast<unsigned long long>(crc));
  return b;
}

// Whether a staged copy matches what the index (or, without sizes, the source) says.
bool staged_copy_matches(const std::string& dst, std::int64_t bytes, std::int64_t crc) {
  std::error_code ec;
  if (!fsys::is_regular_file(dst, ec) || static_cast<std::int64_t>(fsys::file_size(dst, ec)) != bytes || ec) return false;
  return crc < 0 || file_checksum(dst).crc32 == crc;
}

// Streams src -> dst (via a temporary name) and checks the bytes against the index entry.
FileChecksum copy_checked(const std::string& src, const std::string& dst, std::int64_t bytes, std::int64_t crc,
                          const std::string& index_path) {
  const std::string tmp = fs::temp_path_for(dst);
  FileChecksum got;
  {
    Fd in(src, O_RDONLY);
    if (in.get() < 0) throw Error("cannot open shard " + src + " for staging: " + errno_text(), kRepack);
    Fd out(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (out.get() < 0) throw Error("cannot create " + tmp + " (data.stage_to): " + errno_text(), "check free space and permissions");
    got = stream(in.get(), src, [&](const unsigned char* p, size_t n) {
      while (n > 0) {
        const ssize_t w = ::write(out.get(), p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw Error("cannot write " + tmp + " (data.stage_to): " + errno_text(), "check free space on the node-local disk");
        p += w;
        n -= static_cast<size_t>(w);
      }
    });
  }
  std::string problem;
  if (got.bytes != bytes)
    problem = std::to_string(got.bytes) + " bytes read, " + std::to_string(bytes) + " expected";
  else if (crc >= 0 && got.crc32 != crc)
    problem = "CRC-32 " + hex(got.crc32) + " computed, " + hex(crc) + " recorded";
  if (!problem.empty()) {
    std::error_code ec;
    fsys::remove(tmp, ec);
    throw Error("shard " + src + " does not match its index " + index_path + ": " + problem, kRepack);
  }
  std::error_code ec;
  fsys::rename(tmp, dst, ec);
  if (ec) throw Error("cannot rename " + tmp + " to " + dst + ": " + ec.message());
  return got;
}

}  // namespace

FileChecksum file_checksum(const std::string& path) {
  Fd in(path, O_RDONLY);
  if (in.get() < 0) throw Error("cannot open " + path + ": " + errno_text());
  return stream(in.get(), path, [](const unsigned char*, size_t) {});
}

StageResult stage_shards(const StageOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  if (o.to.empty()) throw UsageError("data.stage_to is empty", "set it to a node-local directory or leave staging off");
  if (fsys::exists(o.to, ec) && fsys::equivalent(o.from, o.to, ec))
    throw UsageError("data.stage_to (" + o.to + ") is the shard directory itself",
                     "point it to node-local storage, e.g. /scratch/$USER/job_$SLURM_JOB_ID");
  fs::ensure_writable_dir(o.to);
  StageResult r;
  r.crc_checked = !o.splits.empty();
  for (const auto& split : o.splits) {
    const std::string index_path = (fsys::path(o.from) / shard::index_file_name(split)).string();
    if (!fsys::exists(index_path))
      throw Error("no shards of split '" + split + "' in " + o.from + " (missing " + index_path + ")",
                  "re-create the shards with `sdn pack --src <vkitti> --out <dir> --split <split>`");
    const std::string text = fs::read_file(index_path);
    const ShardIndex index = index_from_json(text, index_path);
    const bool checksums = index.has_checksums();
    r.crc_checked = r.crc_checked && checksums;
    if (!checksums)
      r.warnings.push_back(index_path + " records no shard sizes and CRCs (packed by an older sdn): the staged copies "
                           "are checked by size only; re-run `sdn pack` to add them");
    for (size_t i = 0; i < index.files.size(); ++i) {
      const std::string src = (fsys::path(o.from) / index.files[i]).string();
      const std::string dst = (fsys::path(o.to) / index.files[i]).string();
      std::int64_t bytes = checksums ? index.bytes[i] : -1;
      const std::int64_t crc = checksums ? index.crc32[i] : -1;
      if (bytes < 0) {
        const auto size = fsys::file_size(src, ec);
        if (ec) throw Error("shard " + src + " listed in " + index_path + " is missing: " + ec.message(), kRepack);
        bytes = static_cast<std::int64_t>(size);
      }
      fsys::create_directories(fsys::path(dst).parent_path(), ec);
      r.bytes += bytes;
      if (staged_copy_matches(dst, bytes, crc)) {
        ++r.files_kept;
        continue;
      }
      if (fsys::exists(dst, ec)) {
        ++r.files_replaced;
        r.warnings.push_back("staged copy " + dst + " does not match " + index_path + " (size or CRC-32): copied again "
                             "from " + src);
      }
      copy_checked(src, dst, bytes, crc, index_path);
      r.bytes_copied += bytes;
      ++r.files_copied;
    }
    // Last: the staged set is visible to ShardSet only when every shard is in place.
    fs::write_atomic((fsys::path(o.to) / shard::index_file_name(split)).string(), text);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace sdn::data

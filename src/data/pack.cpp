// Implements parallel, crash-safe packing of a vKITTI tree into shards (see pack.hpp).
#include "data/pack.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"
#include "data/reader.hpp"
#include "data/shard_set.hpp"
#include "data/shard_writer.hpp"
#include "data/stage_copy.hpp"

namespace sdn::data {
namespace {

constexpr std::int64_t kTargetShardBytes = 2LL << 30;

std::vector<FrameRef> select_split(const std::vector<FrameRef>& all, const std::string& split) {
  std::vector<FrameRef> out;
  for (const auto& f : all) {
    bool train = is_train_frame(f.world, f.index);
    if (split == "all" || (split == "train") == train) out.push_back(f);
  }
  return out;
}

// Decodes frames [begin, end) on `threads` threads and writes them to `writer`; HDF5 calls are serialised.
void fill_shard(const DatasetReader& reader, const std::vector<FrameRef>& frames, std::int64_t begin,
                std::int64_t end, int threads, ShardWriter& writer, Progress* progress) {
  std::atomic<std::int64_t> next{begin};
  std::mutex write_mu;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    for (;;) {
      std::int64_t i = next++;
      if (i >= end || failed) return;
      try {
        Frame f = reader.load(frames[static_cast<size_t>(i)]);
        std::lock_guard<std::mutex> lock(write_mu);
        writer.write(i - begin, f);
      } catch (...) {
        std::lock_guard<std::mutex> lock(write_mu);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
      if (progress) progress->add();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// A re-pack with another shard count leaves the old set's files behind; once the new index is durable
// nothing refers to them any more.
void remove_superseded_shards(const std::string& dir, const std::string& split, const std::vector<std::string>& keep) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const bool ours = name.rfind(split + "-", 0) == 0 && name.find("-of-") != std::string::npos &&
                      name.size() > 3 && name.compare(name.size() - 3, 3, ".h5") == 0;
    if (ours && std::find(keep.begin(), keep.end(), name) == keep.end()) {
      std::error_code ec;
      std::filesystem::remove(e.path(), ec);
    }
  }
}

}  // namespace

std::int64_t shard_begin(std::int64_t n, int shards, int shard) {
  return n / shards * shard + std::min<std::int64_t>(shard, n % shards);
}

PackResult pack(const PackOptions& o) {
  auto reader = open_dataset(o.src);
  if (o.camera == 1 && reader->layout() == Layout::kVkitti1)
    throw UsageError("--camera 1 needs the vKITTI 2 layout; " + o.src + " is vKITTI 1.3.1 (one camera)",
                     "use --camera 0");
  auto frames = select_split(reader->list_frames(o.camera), o.split);
  if (frames.empty())
    throw Error("no frames of split '" + o.split + "' under " + o.src,
                "check --src, --camera and --split (train/test follow the 3D-SDN frame ranges per world)");
  fs::ensure_writable_dir(o.out);

  const Frame first = reader->load(frames.front());
  const std::int64_t n = static_cast<std::int64_t>(frames.size());
  const std::int64_t frame_bytes = static_cast<std::int64_t>(first.width) * first.height * 8;  // rgb+class+inst+depth
  int shards = o.shards > 0 ? o.shards : static_cast<int>(std::max<std::int64_t>(1, n * frame_bytes / kTargetShardBytes));
  shards = static_cast<int>(std::min<std::int64_t>(shards, n));
  spdlog::info("packing {} {} frames ({}x{}, {}) from {} into {} shard(s) in {}", n, o.split, first.width, first.height,
               layout_name(reader->layout()), o.src, shards, o.out);

  ShardIndex index;
  index.split = o.split;
  index.source_layout = layout_name(reader->layout());
  index.source_root = std::filesystem::absolute(o.src).string();
  index.camera = o.camera;
  index.width = first.width;
  index.height = first.height;
  std::unique_ptr<Progress> progress;
  if (o.progress) progress = std::make_unique<Progress>("pack " + o.split, n);
  for (int s = 0; s < shards; ++s) {
    const std::int64_t b = shard_begin(n, shards, s), e = shard_begin(n, shards, s + 1);
    const std::string name = shard::shard_file_name(o.split, s, shards);
    ShardMeta meta{index.source_layout, o.split, first.width, first.height, s, shards};
    ShardWriter writer((std::filesystem::path(o.out) / name).string(), meta, e - b);
    fill_shard(*reader, frames, b, e, o.threads, writer, progress.get());
    writer.commit();
    // Size and CRC of the finished file, for node-local staging to check its copies (data/stage_copy.hpp).
    const auto check = file_checksum((std::filesystem::path(o.out) / name).string());
    index.files.push_back(name);
    index.counts.push_back(e - b);
    index.bytes.push_back(check.bytes);
    index.crc32.push_back(check.crc32);
  }
  if (progress) progress->finish();
  PackResult r{n, shards, (std::filesystem::path(o.out) / shard::index_file_name(o.split)).string()};
  fs::write_atomic(r.index_path, index_to_json(index));  // last: the set becomes visible only when whole
  remove_superseded_shards(o.out, o.split, index.files);
  return r;
}

}  // namespace sdn::data

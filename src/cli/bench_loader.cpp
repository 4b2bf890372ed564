// `sdn bench loader`: frames/s reading the HDF5 shards vs decoding the same frames from the vKITTI tree,
// one core each, in one run (ratios, not absolute times, are what we compare on noisy machines); plus the
// training loader with augmentation, the rate a training step must not outrun.
#include <chrono>
#include <cstdio>
#include <functional>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/exit_codes.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "data/loader.hpp"
#include "data/reader.hpp"
#include "data/shard_set.hpp"

namespace sdn::cli {
namespace {

struct BenchLoaderConfig {
  std::string src;
  std::string shards;
  std::string split = "train";
  int frames = 64;
  int repeats = 3;
  int threads = 1;
};

opt::Schema<BenchLoaderConfig> schema() {
  opt::Schema<BenchLoaderConfig> s("bench loader",
                                   "Frames/s: HDF5 shards vs decoding the PNG/JPEG tree they were packed from.");
  s.add("src", "vKITTI tree the shards were packed from", [](BenchLoaderConfig& c) -> auto& { return c.src; })
      .add("shards", "shard directory (from sdn pack)", [](BenchLoaderConfig& c) -> auto& { return c.shards; })
      .add("split", "split to read", [](BenchLoaderConfig& c) -> auto& { return c.split; })
      .add("frames", "frames per measurement", [](BenchLoaderConfig& c) -> auto& { return c.frames; }, opt::Range{1, 100000})
      .add("repeats", "measurements per path (the best is kept)", [](BenchLoaderConfig& c) -> auto& { return c.repeats; },
           opt::Range{1, 100})
      .add("threads", "loader threads for the augmented-loader line", [](BenchLoaderConfig& c) -> auto& { return c.threads; },
           opt::Range{1, 64});
  return s;
}

// Best-of-`repeats` frames/s of `fn(i)` over `n` frames.
double best_rate(int repeats, int n, const std::function<void(int)>& fn) {
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn(i);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, n / s);
  }
  return best;
}

}  // namespace

int bench_loader(const Args& args) {
  auto parsed = parse_command(schema(), args, [](const BenchLoaderConfig& c) {
    std::vector<std::string> e;
    if (c.src.empty()) e.push_back("src: required");
    if (c.shards.empty()) e.push_back("shards: required");
    return e;
  });
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  log::init("warn");
  auto reader = data::open_dataset(c.src);
  data::ShardSet shards(c.shards, c.split);
  // The same frames on both paths: the shard set's own identities, looked up in the tree.
  const int n = static_cast<int>(std::min<std::int64_t>(c.frames, shards.size()));
  std::vector<data::FrameRef> refs;
  for (int i = 0; i < n; ++i) {
    auto info = shards.info(i);
    refs.push_back({info.world, info.variation, info.frame, info.camera});
  }
  data::Fields all{true, true, true, true};
  data::Sample sample;
  volatile std::size_t sink = 0;  // keeps the reads observable
  // Warm the page cache for both paths first: we compare decode cost, not the disk.
  for (int i = 0; i < n; ++i) sink = sink + reader->load(refs[static_cast<size_t>(i)]).rgb.size();
  for (int i = 0; i < n; ++i) shards.read(i, all, sample), sink = sink + sample.rgb.size();

  double tree = best_rate(c.repeats, n, [&](int i) { sink = sink + reader->load(refs[static_cast<size_t>(i)]).rgb.size(); });
  double h5 = best_rate(c.repeats, n, [&](int i) { shards.read(i, all, sample); sink = sink + sample.rgb.size(); });

  data::LoaderOptions lo;
  lo.global_batch = 1;
  lo.threads = c.threads;
  lo.prefetch = 4;
  data::Loader loader(shards, lo, 0);
  double aug = best_rate(c.repeats, n, [&](int) { sink = sink + loader.next().micro[0][0].rgb.size(); });

  std::printf("frames: %d of %dx%d (%s, all fields: rgb, class, instance, depth)\n", n, shards.width(),
              shards.height(), shards.index().source_layout.c_str());
  std::printf("| path | frames/s (1 core) | vs tree |\n|---|---|---|\n");
  std::printf("| decode %s tree (reader) | %.1f | 1.00x |\n", shards.index().source_layout == "vkitti2" ? "PNG+JPEG" : "PNG", tree);
  std::printf("| HDF5 shards (raw chunks) | %.1f | %.2fx |\n", h5, h5 / tree);
  std::printf("| training loader (rgb+class, augmented, %d thread%s) | %.1f | %.2fx |\n", c.threads,
              c.threads == 1 ? "" : "s", aug, aug / tree);
  return kExitOk;
}

}  // namespace sdn::cli

// Implements the prefetching, rank-sliced, deterministically augmented loader (see loader.hpp).
#include "data/loader.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"

namespace sdn::data {
namespace {
constexpr std::uint64_t kAugmentStream = 0x4155474dULL;  // "AUGM": separates augmentation keys from shuffling

// Number of items the sampler permutes; checks that an item list is usable before any thread starts.
std::int64_t item_count(const ShardSet& shards, const LoaderOptions& o) {
  if (!o.items) return shards.size();
  if (o.items->empty())
    throw Error("the item list is empty: no object of the " + std::to_string(shards.size()) +
                    " frames passed the stage's filter",
                "loosen the object filter or pack frames that contain such objects");
  for (size_t i = 0; i < o.items->size(); ++i) {
    const Item& it = (*o.items)[i];
    if (it.frame < 0 || it.frame >= shards.size() || it.object < -1)
      throw Error("item " + std::to_string(i) + " names frame " + std::to_string(it.frame) + ", object " +
                      std::to_string(it.object) + "; the shard set has frames [0, " + std::to_string(shards.size()) +
                      ")",
                  "build the item list from the same shard set the loader reads (data::object_items)");
  }
  return static_cast<std::int64_t>(o.items->size());
}

}  // namespace

Slice eval_range(std::int64_t n, int rank, int world) {
  const std::int64_t base = n / world, extra = n % world;
  const std::int64_t begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

Loader::Loader(const ShardSet& shards, LoaderOptions options, std::int64_t start_position)
    : shards_(shards), options_(std::move(options)),
      sampler_({item_count(shards, options_), options_.global_batch, options_.seed, options_.shuffle}) {
  if (options_.items) options_.fields.objects = true;
  // Validates divisibility (throws UsageError naming the numbers).
  auto s = rank_slice(options_.global_batch, options_.rank, options_.world, 0, options_.micro_batches);
  per_rank_ = s.end - s.begin;
  if (start_position % options_.global_batch != 0)
    throw Error("loader position " + std::to_string(start_position) + " is not a multiple of the global batch " +
                    std::to_string(options_.global_batch),
                "resume from a checkpoint written by a run with the same global batch");
  next_step_ = scheduled_until_ = start_position / options_.global_batch;
  const int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Loader::schedule_locked(std::int64_t step) {
  auto batch = sampler_.global_batch(step);
  Pending& p = pending_[step];
  p.batch.step = step;
  p.batch.epoch = sampler_.epoch_of_step(step);
  p.batch.micro.assign(static_cast<size_t>(options_.micro_batches), std::vector<Sample>(static_cast<size_t>(per_rank_)));
  p.remaining = options_.micro_batches * static_cast<int>(per_rank_);
  for (int m = 0; m < options_.micro_batches; ++m) {
    auto s = rank_slice(options_.global_batch, options_.rank, options_.world, m, options_.micro_batches);
    for (std::int64_t k = s.begin; k < s.end; ++k)
      tasks_.push_back({step, m, static_cast<int>(k - s.begin), batch[static_cast<size_t>(k)]});
  }
}

RankBatch Loader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  while (scheduled_until_ < next_step_ + std::max(1, options_.prefetch)) schedule_locked(scheduled_until_++);
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return pending_.at(next_step_).remaining == 0; });
  auto node = pending_.extract(next_step_);
  ++next_step_;
  // Keep the pipeline full: queue the step that just came into the prefetch window.
  schedule_locked(scheduled_until_++);
  lock.unlock();
  work_cv_.notify_all();
  if (node.mapped().error) std::rethrow_exception(node.mapped().error);
  return std::move(node.mapped().batch);
}

void Loader::work() {
  for (;;) {
    Task t;
    std::int64_t epoch = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_) return;
      t = tasks_.front();
      tasks_.pop_front();
      epoch = pending_.at(t.step).batch.epoch;
    }
    Sample sample;
    std::exception_ptr error;
    try {
      const Item item = options_.items ? (*options_.items)[static_cast<size_t>(t.item)] : Item{t.item, -1};
      shards_.read(item.frame, options_.fields, sample);
      if (item.object >= 0 && item.object >= static_cast<std::int32_t>(sample.objects.size()))
        throw Error("item " + std::to_string(t.item) + " names object " + std::to_string(item.object) + " of frame " +
                        std::to_string(item.frame) + ", which has " + std::to_string(sample.objects.size()) + " objects",
                    "build the item list from the same shard set the loader reads (data::object_items)");
      sample.item = t.item;
      sample.object = item.object;
      if (options_.augment) {
        // Keyed by the item, so two crops of one frame get independent draws; for frames item = frame index.
        KeyedRng rng({options_.seed, kAugmentStream, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(t.item)});
        augment(sample, options_.aug, rng);
      }
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      Pending& p = pending_.at(t.step);
      if (error && !p.error) p.error = error;
      p.batch.micro[static_cast<size_t>(t.micro)][static_cast<size_t>(t.slot)] = std::move(sample);
      --p.remaining;
    }
    done_cv_.notify_all();
  }
}

}  // namespace sdn::data

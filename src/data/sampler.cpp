// Implements the rank-independent global sample order (see sampler.hpp).
#include "data/sampler.hpp"

#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace sdn::data {

namespace {
constexpr std::uint64_t kShuffleStream = 0x5348554646ULL;  // "SHUFF": keeps shuffle keys apart from augmentation keys
}

Slice rank_slice(std::int64_t global_batch, int rank, int world, int micro, int micro_batches) {
  const std::int64_t parts = static_cast<std::int64_t>(world) * micro_batches;
  if (parts <= 0 || global_batch % parts != 0)
    throw UsageError("global batch " + std::to_string(global_batch) + " is not divisible by ranks (" +
                         std::to_string(world) + ") x micro-batches (" + std::to_string(micro_batches) + ")",
                     "choose a global batch that is a multiple of ranks x per-rank batch");
  const std::int64_t b = global_batch / parts;
  const std::int64_t begin = (static_cast<std::int64_t>(rank) * micro_batches + micro) * b;
  return {begin, begin + b};
}

GlobalSampler::GlobalSampler(SamplerOptions options) : o_(options) {
  if (o_.num_samples <= 0) throw Error("the shard set is empty", "pack some frames with `sdn pack` first");
  if (o_.global_batch <= 0 || o_.global_batch > o_.num_samples)
    throw UsageError("global batch " + std::to_string(o_.global_batch) + " must be in [1, " +
                         std::to_string(o_.num_samples) + "] (the number of samples)",
                     "use a smaller batch or more data");
  steps_per_epoch_ = o_.num_samples / o_.global_batch;
}

std::vector<std::int64_t> GlobalSampler::epoch_order(std::int64_t epoch) const {
  std::lock_guard<std::mutex> lock(mu_);
  ensure_epoch_locked(epoch);
  return order_;
}

void GlobalSampler::ensure_epoch_locked(std::int64_t epoch) const {
  if (epoch != cached_epoch_) {
    order_.resize(static_cast<size_t>(o_.num_samples));
    std::iota(order_.begin(), order_.end(), std::int64_t{0});
    if (o_.shuffle) {
      // Fisher-Yates driven by a key of (seed, epoch) only: identical on every rank and after any resume.
      KeyedRng rng({o_.seed, kShuffleStream, static_cast<std::uint64_t>(epoch)});
      for (std::int64_t i = o_.num_samples - 1; i > 0; --i) {
        auto j = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(i + 1)));
        std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
      }
    }
    cached_epoch_ = epoch;
  }
}

std::vector<std::int64_t> GlobalSampler::global_batch(std::int64_t step) const {
  SDN_CHECK(step >= 0, "negative step");
  const std::int64_t epoch = epoch_of_step(step);
  const std::int64_t first = (step % steps_per_epoch_) * o_.global_batch;
  std::lock_guard<std::mutex> lock(mu_);
  ensure_epoch_locked(epoch);
  return {order_.begin() + first, order_.begin() + first + o_.global_batch};
}

}  // namespace sdn::data

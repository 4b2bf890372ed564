// The global sample order: a permutation of the shard set per (seed, epoch), cut into global batches.
// It never depends on the number of ranks: rank r of W takes a contiguous slice of each global batch, so a
// run resumed on W' ranks sees exactly the same global batches. The loader's whole position is one integer:
// samples consumed globally (always a multiple of the global batch at a step boundary).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace sdn::data {

struct SamplerOptions {
  std::int64_t num_samples = 0;
  std::int64_t global_batch = 1;  // samples per optimiser step over all ranks and micro-batches
  std::uint64_t seed = 0;
  bool shuffle = true;            // false: natural order every epoch (evaluation)
};

// Where a global step's slice for (rank, micro-batch) lies within the global batch.
struct Slice {
  std::int64_t begin = 0, end = 0;
};
// Rank r of `world`, micro-batch m of `micro`: contiguous and disjoint; together they cover the batch.
// Throws UsageError when global_batch is not divisible by world*micro.
Slice rank_slice(std::int64_t global_batch, int rank, int world, int micro, int micro_batches);

class GlobalSampler {
 public:
  explicit GlobalSampler(SamplerOptions options);

  // Full global batches per epoch; the remainder of an epoch (num_samples % global_batch) is dropped so every
  // step has the same batch and every epoch the same length.
  std::int64_t steps_per_epoch() const { return steps_per_epoch_; }
  std::int64_t epoch_of_step(std::int64_t step) const { return step / steps_per_epoch_; }

  // Sample indices of global batch `step` (counted from the start of training, across epochs).
  std::vector<std::int64_t> global_batch(std::int64_t step) const;

  // The permutation of epoch `epoch` (a copy; the last epoch's order is cached).
  std::vector<std::int64_t> epoch_order(std::int64_t epoch) const;

 private:
  void ensure_epoch_locked(std::int64_t epoch) const;  // caller holds mu_

  SamplerOptions o_;
  std::int64_t steps_per_epoch_;
  mutable std::mutex mu_;
  mutable std::int64_t cached_epoch_ = -1;
  mutable std::vector<std::int64_t> order_;
};

}  // namespace sdn::data

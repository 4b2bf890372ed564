// The training loader: background threads read this rank's slice of upcoming global batches from the shards
// and augment each sample with randomness keyed by (seed, epoch, item index). The sampler draws items: whole
// frames by default, or the entries of LoaderOptions::items (e.g. object crops). Batches come out in step order
// whatever thread finishes first; the only state worth saving is position() (items consumed globally).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.hpp"
#include "data/items.hpp"
#include "data/sampler.hpp"
#include "data/shard_set.hpp"

namespace sdn::data {

struct LoaderOptions {
  int rank = 0, world = 1;
  int micro_batches = 1;          // gradient-accumulation steps per optimiser step
  std::int64_t global_batch = 1;  // = world x micro_batches x per-rank batch
  std::uint64_t seed = 0;
  bool shuffle = true;
  bool augment = true;
  AugmentOptions aug;
  Fields fields;
  // What the sampler permutes: null = every frame of the shard set (item i = frame i); else these items, and
  // each Sample carries the whole frame with Sample::object = the item's object and Sample::item = its index.
  // Items imply Fields::objects (the stage needs the object to crop it). Shared, so loaders of several ranks
  // or restarts can hold one list.
  std::shared_ptr<const std::vector<Item>> items;
  int threads = 2;   // read + augment threads
  int prefetch = 2;  // global steps prepared ahead of the trainer
};

// This rank's share of one global step: `micro_batches` lists of per-rank-batch samples.
struct RankBatch {
  std::int64_t step = 0;
  std::int64_t epoch = 0;
  std::vector<std::vector<Sample>> micro;
};

// Contiguous, near-equal partition of [0, n) for evaluation: rank r's half-open range.
Slice eval_range(std::int64_t n, int rank, int world);

class Loader {
 public:
  // `start_position` must be a multiple of the global batch (a step boundary), e.g. from a checkpoint.
  Loader(const ShardSet& shards, LoaderOptions options, std::int64_t start_position = 0);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Blocks until this rank's part of the next global step is ready. Rethrows a worker's error.
  RankBatch next();
  // Items consumed globally by the steps returned so far (the resume position).
  std::int64_t position() const { return next_step_ * options_.global_batch; }
  const GlobalSampler& sampler() const { return sampler_; }

 private:
  struct Task {
    std::int64_t step;
    int micro, slot;
    std::int64_t item;
  };
  struct Pending {
    RankBatch batch;
    int remaining = 0;
    std::exception_ptr error;
  };
  void schedule_locked(std::int64_t step);
  void work();

  const ShardSet& shards_;
  LoaderOptions options_;
  GlobalSampler sampler_;
  std::int64_t per_rank_ = 0;
  std::int64_t next_step_ = 0;       // next step next() returns
  std::int64_t scheduled_until_ = 0; // steps [next_step_, scheduled_until_) are queued or done
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Task> tasks_;
  std::map<std::int64_t, Pending> pending_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sdn::data

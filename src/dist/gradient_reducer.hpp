// GradientReducer: averages gradients across ranks while backward is still running.
// Every parameter that requires grad gets a post-hook on its AccumulateGrad node; when all gradients of a
// bucket have been accumulated its all-reduce is started, strictly in bucket order on every rank (collectives
// must match across ranks). finish() starts what is left, waits, and leaves the AVERAGED gradients in .grad.
// By default each .grad is a slice of its bucket's flat buffer (gradient as bucket view): backward
// accumulates into the bucket, and only a gradient that is not in its slot (the first step, or after grads
// were set to undefined) is copied in once. Backends (MpiReducer, NcclReducer) only start and wait.
//
// Usage per optimiser step (one reducer per backward family; a GAN has one for G and one for D):
//   reducer.set_sync(is_last_micro_batch);   // no-sync: grads accumulate locally in .grad, nothing is sent
//   loss.backward();
//   reducer.finish();                        // no-op in no-sync mode
// Gradient accumulation therefore sums the micro-batches in .grad and reduces once (as DDP's no_sync());
// finish() divides by the world size only, so scale each micro-batch loss by 1/accumulation_steps.
// A backward that runs through another reducer's parameters (G's loss through D) must first set that
// reducer to set_sync(false), or its hooks count those gradients for its own next step (docs/dist.md).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <mpi.h>

#include "dist/buckets.hpp"

namespace sdn::dist {

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};

// Parameters / buffers of a module in registration order (the order assign_buckets reverses).
std::vector<NamedTensor> named_parameters(const torch::nn::Module& module);
std::vector<NamedTensor> named_buffers(const torch::nn::Module& module);

// How the MPI backend makes progress during backward (mpi_reducer.hpp); unused by NCCL.
// kAuto = kThread when MPI provides MPI_THREAD_MULTIPLE, else kNonblocking.
enum class MpiProgress { kAuto, kNonblocking, kThread };

struct ReducerOptions {
  int64_t bucket_cap_bytes = kDefaultBucketCapBytes;
  int64_t first_bucket_cap_bytes = kDefaultFirstBucketCapBytes;
  MpiProgress mpi_progress = MpiProgress::kAuto;
  std::string name = "gradients";  // names this reducer in messages ("generator", "discriminator")
  // Each parameter's .grad lives inside its bucket's flat buffer (DDP's gradient_as_bucket_view), so backward
  // accumulates straight into the bucket and finish() divides in place: no copy in or out. false: the
  // copying path (gradients in their own tensors, packed and unpacked each step), kept as the reference.
  bool grad_as_bucket_view = true;
};

// Counters for the overlap benchmark and the progress line.
struct ReducerStats {
  int64_t synced_steps = 0;
  int64_t buckets_started_in_backward = 0;  // overlapped with the rest of backward
  int64_t buckets_started_in_finish = 0;    // had a parameter that produced no gradient in time
  double last_finish_seconds = 0;           // exposed (non-overlapped) communication of the last step
};

class GradientReducer {
 public:
  virtual ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // false: hooks do nothing and gradients accumulate locally; true (default): the next backward reduces.
  void set_sync(bool sync);
  bool sync() const { return sync_; }

  // After each backward: starts the buckets not started yet (their parameters got no gradient this step on
  // this rank: the stored .grad, or zeros, is sent, so every rank joins every collective), waits for all, and
  // replaces each .grad by the average over ranks. A parameter that has no gradient on ANY rank keeps an
  // undefined .grad (each bucket carries one "has a gradient" count per parameter for this decision).
  void finish();

  const std::vector<BucketPlan>& buckets() const { return plan_; }
  const std::vector<NamedTensor>& params() const { return params_; }  // the attached ones (requires_grad)
  int world_size() const { return world_; }
  const ReducerStats& stats() const { return stats_; }
  virtual const char* backend() const = 0;

 protected:
  // Keeps the parameters with requires_grad (frozen ones are excluded), plans buckets, checks that every
  // rank of `comm` planned the same layout (a mismatch would deadlock or corrupt), allocates one flat buffer
  // per bucket (gradient elements + one count per member) and registers the hooks.
  GradientReducer(std::vector<NamedTensor> params, const ReducerOptions& options, MPI_Comm comm);

  // Backend: start an in-place SUM of `flat` across ranks. Called in bucket order, identically on all ranks.
  virtual void start(size_t bucket, torch::Tensor& flat) = 0;
  // Backend: make the summed `flat` visible to work issued next on the calling thread's current stream.
  virtual void wait(size_t bucket, torch::Tensor& flat) = 0;
  // Backend: optional nudge of in-flight reductions, called from every hook (MPI progress without a thread).
  virtual void poke() {}
  // Backend: brackets the buckets that finish() starts together (NCCL fuses them in one group).
  virtual void begin_group() {}
  virtual void end_group() {}

  // Removes the hooks; derived destructors call it before they release what start()/wait() use.
  void detach_hooks();
  // Whether a bucket was started but not yet waited for (error paths: the backend must not block on it).
  bool in_flight(size_t bucket) const { return bucket < launched_ && !waited_[bucket]; }
  size_t bucket_count() const { return plan_.size(); }
  std::vector<torch::Tensor>& flats() { return flats_; }
  // "gradient bucket 3 of 8 of reducer 'generator'": names the collective in watchdog messages.
  std::string describe_bucket(size_t bucket) const;

 private:
  class ReadyHook;
  void on_grad_ready(size_t param);
  void pack(size_t bucket);
  void unpack(size_t bucket);
  void adopt(size_t param);  // view mode: moves a gradient that is not its slot into the slot
  void start_ready_buckets();
  void reset_step();

  std::vector<NamedTensor> params_;
  std::vector<BucketPlan> plan_;
  std::vector<size_t> bucket_of_;     // param -> bucket
  std::vector<int64_t> offset_of_;    // param -> element offset in its bucket's flat buffer
  std::vector<int64_t> numel_of_;     // bucket -> gradient elements (counts follow)
  std::vector<torch::Tensor> flats_;  // one per bucket
  // View mode: param -> its gradient's home inside its bucket (a plain tensor over the bucket's storage,
  // not an autograd view, so Optimizer::zero_grad()'s detach_() and zero_() keep it in place).
  std::vector<torch::Tensor> slots_;
  bool views_ = true;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive so hooks persist
  std::vector<uintptr_t> hook_keys_;

  std::mutex mutex_;  // hooks may run on autograd worker threads (one per device)
  std::vector<char> ready_;     // param fired in this synced backward
  std::vector<int> pending_;    // bucket -> members not ready yet
  std::vector<char> waited_;    // bucket -> finished in this step
  size_t launched_ = 0;         // buckets [0, launched_) have been started this step
  bool sync_ = true;
  int world_ = 1;
  std::string name_;
  ReducerStats stats_;
};

}  // namespace sdn::dist

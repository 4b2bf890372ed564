// Implements MpiReducer (see mpi_reducer.hpp).
// Error-path rule: a reducer destroyed with reductions in flight (an exception during backward) must not
// wait for them, because the peer ranks may never join (they are about to be killed by abort_job). It
// leaves the requests, the communication thread and their buffers alive on purpose instead.
#include "dist/mpi_reducer.hpp"

#include <climits>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/error.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_check.hpp"

namespace sdn::dist {

struct MpiReducer::Worker {
  struct Job {
    size_t bucket;
    torch::Tensor flat;  // holds the buffer alive even if the reducer is abandoned on an error path
    MPI_Datatype type;
    std::string what;    // for the watchdog
  };

  explicit Worker(MPI_Comm c, size_t buckets) : comm(c), done(buckets, 0) {}

  void run() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
        busy = true;
      }
      // Bucket order is preserved: one thread, FIFO queue, filled in bucket order by the hooks.
      int rc = MPI_SUCCESS;
      {
        CollectiveScope watch(job.what.empty() ? "MPI_Allreduce of a gradient bucket" : "MPI_Allreduce of " + job.what);
        rc = MPI_Allreduce(MPI_IN_PLACE, job.flat.data_ptr(), static_cast<int>(job.flat.numel()), job.type, MPI_SUM,
                           comm);
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        busy = false;
        if (rc != MPI_SUCCESS)
          error = "MPI_Allreduce of gradient bucket " + std::to_string(job.bucket) + " failed " + where_am_i() +
                  ": " + mpi_error_text(rc);
        else
          done[job.bucket] = 1;
      }
      cv.notify_all();
    }
  }

  MPI_Comm comm;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Job> queue;
  std::vector<char> done;
  bool busy = false;
  bool stop = false;
  std::string error;
  std::thread thread;
};

MpiProgress parse_mpi_progress(const std::string& text) {
  if (text == "auto") return MpiProgress::kAuto;
  if (text == "nonblocking") return MpiProgress::kNonblocking;
  if (text == "thread") return MpiProgress::kThread;
  throw UsageError("unknown MPI reducer progress mode '" + text + "'", "use one of: auto, nonblocking, thread");
}

const char* to_string(MpiProgress progress) {
  switch (progress) {
    case MpiProgress::kAuto: return "auto";
    case MpiProgress::kNonblocking: return "nonblocking";
    case MpiProgress::kThread: return "thread";
  }
  return "unknown";
}

MpiReducer::MpiReducer(std::vector<NamedTensor> params, const ReducerOptions& options, const Communicator& comm)
    : GradientReducer(std::move(params), options, comm.comm()),
      comm_(MpiComm::duplicate(comm.comm())),
      progress_(options.mpi_progress),
      requests_(bucket_count(), MPI_REQUEST_NULL),
      watches_(bucket_count()) {
  for (const auto& p : this->params()) {
    if (!p.tensor.device().is_cpu())
      throw Error("the MPI reducer reduces CPU tensors, but '" + p.name + "' is on " + p.tensor.device().str(),
                  "CUDA parameters use the NCCL reducer (build with -DSDN_WITH_NCCL=ON)");
    mpi_sum_type(p.tensor.scalar_type(), "gradient of '" + p.name + "'");
  }
  for (const auto& flat : flats())
    if (flat.numel() > INT_MAX)
      throw Error("a gradient bucket of " + std::to_string(flat.numel()) + " elements exceeds MPI's int count",
                  "lower the bucket cap; a single parameter of more than 2^31 elements is not supported");
  int level = MPI_THREAD_SINGLE;
  SDN_MPI_CHECK(MPI_Query_thread(&level));
  if (progress_ == MpiProgress::kAuto)
    progress_ = level >= MPI_THREAD_MULTIPLE ? MpiProgress::kThread : MpiProgress::kNonblocking;
  if (progress_ == MpiProgress::kThread) {
    if (level < MPI_THREAD_MULTIPLE)
      throw Error(std::string("the threaded MPI reducer needs MPI_THREAD_MULTIPLE but MPI provides ") +
                      thread_level_name(level),
                  "start the MPI session with MPI_THREAD_MULTIPLE, or use the nonblocking progress mode");
    worker_ = std::make_shared<Worker>(comm_.get(), bucket_count());
    // The thread owns a reference to the state, so abandoning it on an error path is memory safe.
    worker_->thread = std::thread([w = worker_] { w->run(); });
  }
}

MpiReducer::~MpiReducer() {
  detach_hooks();
  // An abandoned request must not look like a hang later (the error path aborts the job on its own).
  for (auto& [watchdog, token] : watches_)
    if (watchdog) watchdog->disarm(token);
  bool busy = false;
  for (size_t b = 0; b < bucket_count(); ++b) busy = busy || in_flight(b);
  if (worker_) {
    {
      std::lock_guard<std::mutex> lock(worker_->mutex);
      busy = busy || worker_->busy || !worker_->queue.empty();
      worker_->stop = true;
    }
    worker_->cv.notify_all();
    if (busy) {
      worker_->thread.detach();  // blocked in a collective a failed peer will never join
    } else {
      worker_->thread.join();
    }
    return;
  }
  if (busy) new std::vector<torch::Tensor>(flats());  // deliberate leak: MPI may still write into them
}

void MpiReducer::start(size_t bucket, torch::Tensor& flat) {
  const MPI_Datatype type = mpi_sum_type(flat.scalar_type(), "gradient bucket");
  if (worker_) {
    {
      std::lock_guard<std::mutex> lock(worker_->mutex);
      worker_->queue.push_back({bucket, flat, type, installed_watchdog() ? describe_bucket(bucket) : std::string()});
    }
    worker_->cv.notify_all();
    return;
  }
  if (bucket == 0) oldest_open_ = 0;
  if (auto watchdog = installed_watchdog())
    watches_[bucket] = {watchdog, watchdog->arm("MPI_Iallreduce of " + describe_bucket(bucket))};
  SDN_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(flat.numel()), type, MPI_SUM,
                               comm_.get(), &requests_[bucket]));
  started_ = bucket + 1;
}

void MpiReducer::poke() {
  // Open MPI (no async progress) advances a non-blocking collective only inside MPI calls; a cheap test
  // from each gradient hook keeps the in-flight buckets moving while backward computes.
  while (oldest_open_ < started_) {
    int complete = 0;
    SDN_MPI_CHECK(MPI_Test(&requests_[oldest_open_], &complete, MPI_STATUS_IGNORE));
    if (!complete) break;
    ++oldest_open_;
  }
}

void MpiReducer::wait(size_t bucket, torch::Tensor& /*flat*/) {
  if (worker_) {
    std::unique_lock<std::mutex> lock(worker_->mutex);
    worker_->cv.wait(lock, [&] { return worker_->done[bucket] || !worker_->error.empty(); });
    if (!worker_->error.empty()) throw Error(worker_->error);
    worker_->done[bucket] = 0;
    return;
  }
  SDN_MPI_CHECK(MPI_Wait(&requests_[bucket], MPI_STATUS_IGNORE));
  if (auto& [watchdog, token] = watches_[bucket]; watchdog) {
    watchdog->disarm(token);
    watchdog.reset();
  }
  if (bucket + 1 == bucket_count()) started_ = oldest_open_ = 0;
}

}  // namespace sdn::dist

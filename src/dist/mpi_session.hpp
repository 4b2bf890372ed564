// MPI lifetime and the communicators every distributed component uses.
// MpiSession initialises MPI only if nobody did and finalises only what it initialised, so `sdn` runs the same
// under srun, under mpirun and as a plain single process. Communicator owns a duplicate of the world (no other
// MPI user can collide with our collectives) plus the node-local communicator that gives the local rank.
// Destroy every Communicator before the MpiSession (declare the session first).
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace sdn::dist {

// Owns one MPI communicator handle (MPI_Comm_free on destruction, unless MPI is already finalised).
class MpiComm {
 public:
  MpiComm() = default;
  explicit MpiComm(MPI_Comm comm) : comm_(comm) {}
  ~MpiComm();
  MpiComm(MpiComm&& other) noexcept;
  MpiComm& operator=(MpiComm&& other) noexcept;
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  MPI_Comm get() const { return comm_; }

  // MPI_Comm_dup of `parent` with errors returned (not fatal) so SDN_MPI_CHECK can report them.
  static MpiComm duplicate(MPI_Comm parent);

 private:
  void reset();
  MPI_Comm comm_ = MPI_COMM_NULL;
};

class MpiSession {
 public:
  // Initialises MPI unless it is already initialised, asking for MPI_THREAD_MULTIPLE (the MPI reducer's
  // communication thread uses it when provided) and requiring at least `required_thread_level`
  // (MPI_THREAD_FUNNELED: only the main thread calls MPI). Then stamps rank/world into core's process
  // identity. Throws sdn::Error if the library provides less than required.
  explicit MpiSession(int required_thread_level = MPI_THREAD_FUNNELED);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int thread_level() const { return thread_level_; }     // as provided by the library
  bool initialised_here() const { return owns_; }

 private:
  bool owns_ = false;
  int thread_level_ = MPI_THREAD_SINGLE;
  int rank_ = 0;
  int size_ = 1;
};

class Communicator {
 public:
  // Duplicates `parent` and splits the duplicate by shared-memory node (MPI_COMM_TYPE_SHARED).
  explicit Communicator(MPI_Comm parent = MPI_COMM_WORLD);

  MPI_Comm comm() const { return world_.get(); }
  MPI_Comm local_comm() const { return local_.get(); }
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }

  // `value` of every rank on this node, indexed by local rank (for device selection checks).
  std::vector<std::string> local_allgather(const std::string& value) const;

 private:
  MpiComm world_;
  MpiComm local_;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

// Human-readable MPI thread level ("MPI_THREAD_FUNNELED", ...).
const char* thread_level_name(int level);

}  // namespace sdn::dist

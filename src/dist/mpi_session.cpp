// Implements MpiSession, MpiComm and Communicator (see mpi_session.hpp).
#include "dist/mpi_session.hpp"

#include <utility>

#include "core/error.hpp"
#include "dist/mpi_check.hpp"

namespace sdn::dist {
namespace {

bool mpi_alive() {
  int initialised = 0;
  int finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  return initialised && !finalised;
}

}  // namespace

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE: return "MPI_THREAD_MULTIPLE";
    default: return "unknown MPI thread level";
  }
}

MpiComm::~MpiComm() { reset(); }

MpiComm::MpiComm(MpiComm&& other) noexcept : comm_(std::exchange(other.comm_, MPI_COMM_NULL)) {}

MpiComm& MpiComm::operator=(MpiComm&& other) noexcept {
  if (this != &other) {
    reset();
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
  }
  return *this;
}

void MpiComm::reset() {
  // Freeing after MPI_Finalize is erroneous; a communicator that outlives the session is simply dropped.
  if (comm_ != MPI_COMM_NULL && mpi_alive()) MPI_Comm_free(&comm_);
  comm_ = MPI_COMM_NULL;
}

MpiComm MpiComm::duplicate(MPI_Comm parent) {
  MPI_Comm dup = MPI_COMM_NULL;
  SDN_MPI_CHECK(MPI_Comm_dup(parent, &dup));
  MpiComm owned(dup);
  SDN_MPI_CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
  return owned;
}

MpiSession::MpiSession(int required_thread_level) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    // No launcher (plain `sdn ...`) is fine: MPI starts as a singleton of size 1.
    SDN_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &thread_level_));
    owns_ = true;
  } else {
    SDN_MPI_CHECK(MPI_Query_thread(&thread_level_));
  }
  // From here on world errors come back as codes for SDN_MPI_CHECK instead of aborting silently.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  SDN_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  SDN_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  set_process_identity(rank_, size_);
  if (thread_level_ < required_thread_level) {
    const std::string msg = std::string("MPI provides ") + thread_level_name(thread_level_) + " but " +
                            thread_level_name(required_thread_level) + " is required";
    if (owns_) MPI_Finalize();
    owns_ = false;
    throw Error(msg + " " + where_am_i(),
                "use an MPI library built with thread support (Open MPI: ompi_info | grep -i thread), "
                "or use the MPI reducer's non-blocking progress mode, which needs only MPI_THREAD_FUNNELED");
  }
}

MpiSession::~MpiSession() {
  if (owns_ && mpi_alive()) MPI_Finalize();
}

Communicator::Communicator(MPI_Comm parent) : world_(MpiComm::duplicate(parent)) {
  SDN_MPI_CHECK(MPI_Comm_rank(world_.get(), &rank_));
  SDN_MPI_CHECK(MPI_Comm_size(world_.get(), &size_));
  MPI_Comm local = MPI_COMM_NULL;
  // key = world rank keeps local ranks in world order, so local rank r is the r-th rank on this node.
  SDN_MPI_CHECK(MPI_Comm_split_type(world_.get(), MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local));
  local_ = MpiComm(local);
  SDN_MPI_CHECK(MPI_Comm_set_errhandler(local, MPI_ERRORS_RETURN));
  SDN_MPI_CHECK(MPI_Comm_rank(local, &local_rank_));
  SDN_MPI_CHECK(MPI_Comm_size(local, &local_size_));
}

std::vector<std::string> Communicator::local_allgather(const std::string& value) const {
  const int length = static_cast<int>(value.size());
  std::vector<int> lengths(static_cast<size_t>(local_size_));
  SDN_MPI_CHECK(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, local_.get()));
  std::vector<int> offsets(lengths.size(), 0);
  int total = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    offsets[i] = total;
    total += lengths[i];
  }
  std::string all(static_cast<size_t>(total), '\0');
  SDN_MPI_CHECK(MPI_Allgatherv(value.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                               local_.get()));
  std::vector<std::string> out;
  for (size_t i = 0; i < lengths.size(); ++i) out.push_back(all.substr(offsets[i], lengths[i]));
  return out;
}

}  // namespace sdn::dist

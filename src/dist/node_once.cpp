// Implements once_per_node (see node_once.hpp): two broadcasts on the node-local communicator, the status and
// length first, then the payload (the result, or the error message).
#include "dist/node_once.hpp"

#include <climits>
#include <cstdint>

#include "core/error.hpp"
#include "dist/mpi_check.hpp"

namespace sdn::dist {

std::string once_per_node(const Communicator& comm, const std::function<std::string()>& work) {
  std::string payload;
  std::int64_t head[2] = {0, 0};  // ok (1) / failed (0), payload length
  if (comm.local_rank() == 0) {
    try {
      payload = work();
      head[0] = 1;
    } catch (const std::exception& e) {
      payload = e.what();
    }
    head[1] = static_cast<std::int64_t>(payload.size());
  }
  SDN_MPI_CHECK(MPI_Bcast(head, 2, MPI_INT64_T, 0, comm.local_comm()));
  SDN_CHECK(head[1] >= 0 && head[1] < INT_MAX, "node-local result of " + std::to_string(head[1]) + " bytes");
  payload.resize(static_cast<size_t>(head[1]));
  SDN_MPI_CHECK(MPI_Bcast(payload.data(), static_cast<int>(head[1]), MPI_CHAR, 0, comm.local_comm()));
  if (head[0] == 0) {
    if (comm.local_rank() == 0) throw Error(payload);
    throw Error("local rank 0 of this node failed " + where_am_i() + ": " + payload);
  }
  return payload;
}

}  // namespace sdn::dist

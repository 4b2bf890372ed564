// Work done once per node on behalf of all its ranks (node-local data staging): local rank 0 runs it while
// the node's other ranks wait, then every rank of the node gets its result, or its error. The wait is not
// under the collective watchdog: copying a data set to a node-local disk may legitimately take many minutes,
// and a local rank 0 that throws still releases the others with its message (no hang).
#pragma once

#include <functional>
#include <string>

#include "dist/mpi_session.hpp"

namespace sdn::dist {

// Collective over the node-local communicator of `comm` (every rank of a node must call it). Returns the
// string `work` returned on local rank 0; if `work` threw there, throws sdn::Error with that message (naming
// the node) on every rank of the node, so the job fails with the cause rather than hanging.
std::string once_per_node(const Communicator& comm, const std::function<std::string()>& work);

}  // namespace sdn::dist

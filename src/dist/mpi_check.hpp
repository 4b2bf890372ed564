// SDN_MPI_CHECK: the one checking macro for MPI calls. A failed call throws sdn::Error naming the
// expression, file:line, rank/host (core/error.hpp) and MPI's own error string.
// Communicators are created with MPI_ERRORS_RETURN (mpi_session.cpp) so that errors reach this macro.
#pragma once

#include <mpi.h>

#include <string>

#include "core/error.hpp"

namespace sdn::dist {

// MPI_Error_string for an error code, or "MPI error <code>" when MPI cannot describe it.
std::string mpi_error_text(int code);

}  // namespace sdn::dist

#define SDN_MPI_CHECK(expr)                                                                                \
  do {                                                                                                     \
    const int sdn_mpi_rc_ = (expr);                                                                        \
    if (sdn_mpi_rc_ != MPI_SUCCESS)                                                                        \
      ::sdn::throw_api_error("MPI", #expr, __FILE__, __LINE__, ::sdn::dist::mpi_error_text(sdn_mpi_rc_)); \
  } while (0)

// Implements mpi_error_text (see mpi_check.hpp).
#include "dist/mpi_check.hpp"

namespace sdn::dist {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS || length <= 0) return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace sdn::dist

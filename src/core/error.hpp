// Error types of the suite and the process identity that every error message carries.
// Library code throws; only cli/ maps an exception to an exit code (see docs/architecture.md).
// UsageError = the user's input is wrong (exit 2); Error = anything else that stops the command (exit 1).
#pragma once

#include <stdexcept>
#include <string>

namespace sdn {

// An error with an optional "hint:" line that tells the user what to do about it.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {});
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string message_;
  std::string hint_;
};

// Bad command line, config file or config value: the command did nothing.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Rank, world size and host of this process, stamped into log lines and foreign-API errors.
// Set once by the MPI session (or left at 0/1/<hostname> for single-process commands).
struct ProcessIdentity {
  int rank = 0;
  int world = 1;
  std::string host;
};
void set_process_identity(int rank, int world);
const ProcessIdentity& process_identity();

// "[rank r/w host]" for messages.
std::string where_am_i();

// Builds the message of a failed foreign-API call: expression, file:line, rank/host, library message.
[[noreturn]] void throw_api_error(const char* api, const char* expr, const char* file, int line,
                                  const std::string& library_message, const std::string& hint = {});

}  // namespace sdn

// SDN_CHECK(cond, message-expr): internal invariant; the message may use operator+ on std::string.
#define SDN_CHECK(cond, msg)                                                                  \
  do {                                                                                        \
    if (!(cond)) ::sdn::throw_api_error("sdn", #cond, __FILE__, __LINE__, std::string(msg)); \
  } while (0)

// Implements the error types and the process identity (see error.hpp).
#include "core/error.hpp"

#include <unistd.h>

#include <array>

namespace sdn {
namespace {

std::string hostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown-host";
  return buf.data();
}

ProcessIdentity& identity() {
  static ProcessIdentity id{0, 1, hostname()};
  return id;
}

std::string with_hint(const std::string& message, const std::string& hint) {
  return hint.empty() ? message : message + "\n  hint: " + hint;
}

}  // namespace

Error::Error(const std::string& message, std::string hint)
    : std::runtime_error(with_hint(message, hint)), message_(message), hint_(std::move(hint)) {}

void set_process_identity(int rank, int world) {
  identity().rank = rank;
  identity().world = world;
}

const ProcessIdentity& process_identity() { return identity(); }

std::string where_am_i() {
  const auto& id = identity();
  return "[rank " + std::to_string(id.rank) + "/" + std::to_string(id.world) + " " + id.host + "]";
}

void throw_api_error(const char* api, const char* expr, const char* file, int line,
                     const std::string& library_message, const std::string& hint) {
  std::string msg = std::string(api) + " call failed: " + expr + " at " + file + ":" + std::to_string(line) + " " +
                    where_am_i();
  if (!library_message.empty()) msg += ": " + library_message;
  throw Error(msg, hint);
}

}  // namespace sdn

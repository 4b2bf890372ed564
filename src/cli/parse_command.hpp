// The first lines of every command: parse its options (core/options.hpp, all problems at once) or, for --help,
// print its usage and let it return kExitOk.
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>

#include "cli/commands.hpp"
#include "core/options.hpp"

namespace sdn::cli {

// The parsed config, or nullopt after printing the usage for --help. `validate` (optional): C -> problems.
template <class C, class Validate = std::nullptr_t>
std::optional<C> parse_command(const opt::Schema<C>& schema, const Args& args, Validate validate = nullptr) {
  auto parsed = opt::parse<C>(schema, args, validate);
  if (parsed.help) {
    std::fputs(parsed.usage.c_str(), stdout);
    return std::nullopt;
  }
  return std::move(parsed.config);
}

}  // namespace sdn::cli

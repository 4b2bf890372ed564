// Pure text <-> value conversions used by options, INI files, dataset text files and Slurm output.
// Every parser returns an error text (empty on success) instead of throwing, so callers can collect
// all problems and name the file, line or key themselves.
#pragma once

#include <cstdint>
#include <type_traits>
#include <string>
#include <vector>

namespace sdn::parse {

std::string trim(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep, bool skip_empty = true);
std::vector<std::string> split_ws(const std::string& s);  // on runs of spaces/tabs
std::string join(const std::vector<std::string>& parts, const std::string& sep);

std::string parse_value(const std::string& text, bool& out);
std::string parse_value(const std::string& text, int& out);
std::string parse_value(const std::string& text, std::int64_t& out);
std::string parse_value(const std::string& text, std::uint64_t& out);
std::string parse_value(const std::string& text, double& out);
std::string parse_value(const std::string& text, std::string& out);
std::string parse_value(const std::string& text, std::vector<std::string>& out);  // comma list
std::string parse_value(const std::string& text, std::vector<int>& out);          // comma list

std::string format_value(bool v);
std::string format_value(int v);
std::string format_value(std::int64_t v);
std::string format_value(std::uint64_t v);
std::string format_value(double v);
std::string format_value(const std::string& v);
std::string format_value(const std::vector<std::string>& v);
std::string format_value(const std::vector<int>& v);

template <class V>
std::string type_name();

std::string check_range(double v, double lo, double hi);
std::string check_range(const std::vector<int>& v, double lo, double hi);
template <class V>
std::string check_range(const V& v, double lo, double hi) {
  if constexpr (std::is_arithmetic_v<V>) {
    return check_range(static_cast<double>(v), lo, hi);
  } else {
    return {};
  }
}
std::string check_choices(const std::string& v, const std::vector<std::string>& choices);
std::string check_choices(const std::vector<std::string>& v, const std::vector<std::string>& choices);
template <class V>
std::string check_choices(const V&, const std::vector<std::string>&) {
  return {};
}

// Sizes with binary suffixes: "25M" = 25 MiB, "512K", "1G", plain bytes.
std::string parse_size(const std::string& text, std::int64_t& bytes);
// Durations: "[DD-]HH:MM:SS", "MM:SS", "MM" (Slurm's forms) or "90s", "15m", "2h".
std::string parse_duration(const std::string& text, std::int64_t& seconds);
// "HH:MM:SS" or "D-HH:MM:SS" (Slurm --time form).
std::string format_walltime(std::int64_t seconds);

}  // namespace sdn::parse

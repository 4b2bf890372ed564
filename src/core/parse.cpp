// Implements the pure text <-> value conversions (see parse.hpp).
#include "core/parse.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace sdn::parse {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep, bool skip_empty) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!skip_empty || !trim(cur).empty()) out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!skip_empty || !trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string tok;
  while (in >> tok) out.push_back(tok);
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string parse_value(const std::string& text, bool& out) {
  auto t = trim(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") { out = true; return {}; }
  if (t == "false" || t == "0" || t == "no" || t == "off") { out = false; return {}; }
  return "not a boolean";
}

std::string parse_value(const std::string& text, std::int64_t& out) {
  auto t = trim(text);
  if (t.empty()) return "empty value";
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (*end != '\0') return "not an integer";
  if (errno == ERANGE) return "integer out of range";
  out = v;
  return {};
}

std::string parse_value(const std::string& text, int& out) {
  std::int64_t v = 0;
  if (auto err = parse_value(text, v); !err.empty()) return err;
  if (v < INT32_MIN || v > INT32_MAX) return "integer out of range";
  out = static_cast<int>(v);
  return {};
}

std::string parse_value(const std::string& text, std::uint64_t& out) {
  auto t = trim(text);
  if (t.empty()) return "empty value";
  if (t[0] == '-') return "not a non-negative integer";
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(t.c_str(), &end, 10);
  if (*end != '\0') return "not an integer";
  if (errno == ERANGE) return "integer out of range";
  out = v;
  return {};
}

std::string parse_value(const std::string& text, double& out) {
  auto t = trim(text);
  if (t.empty()) return "empty value";
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end != '\0') return "not a number";
  if (errno == ERANGE || !std::isfinite(v)) return "number out of range";
  out = v;
  return {};
}

std::string parse_value(const std::string& text, std::string& out) {
  out = trim(text);
  return {};
}

std::string parse_value(const std::string& text, std::vector<std::string>& out) {
  out = split(text, ',');
  return {};
}

std::string parse_value(const std::string& text, std::vector<int>& out) {
  out.clear();
  for (const auto& part : split(text, ',')) {
    int v = 0;
    if (auto err = parse_value(part, v); !err.empty()) return "item '" + part + "': " + err;
    out.push_back(v);
  }
  return {};
}

std::string format_value(bool v) { return v ? "true" : "false"; }
std::string format_value(int v) { return std::to_string(v); }
std::string format_value(std::int64_t v) { return std::to_string(v); }
std::string format_value(std::uint64_t v) { return std::to_string(v); }
std::string format_value(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream os;
  os.precision(17);
  os << v;
  // Shortest text that still parses back to the same double, so run.ini round-trips exactly.
  for (int p = 1; p <= 17; ++p) {
    std::ostringstream s;
    s.precision(p);
    s << v;
    if (std::strtod(s.str().c_str(), nullptr) == v) return s.str();
  }
  return os.str();
}
std::string format_value(const std::string& v) { return v; }
std::string format_value(const std::vector<std::string>& v) { return join(v, ","); }
std::string format_value(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int i : v) s.push_back(std::to_string(i));
  return join(s, ",");
}

template <> std::string type_name<bool>() { return "boolean"; }
template <> std::string type_name<int>() { return "integer"; }
template <> std::string type_name<std::int64_t>() { return "integer"; }
template <> std::string type_name<std::uint64_t>() { return "non-negative integer"; }
template <> std::string type_name<double>() { return "number"; }
template <> std::string type_name<std::string>() { return "text"; }
template <> std::string type_name<std::vector<std::string>>() { return "comma-separated list"; }
template <> std::string type_name<std::vector<int>>() { return "comma-separated integers"; }

std::string check_range(double v, double lo, double hi) {
  if (v < lo || v > hi) return "out of range";
  return {};
}

std::string check_range(const std::vector<int>& v, double lo, double hi) {
  for (int x : v)
    if (x < lo || x > hi) return "item " + std::to_string(x) + " out of range";
  return {};
}

std::string check_choices(const std::string& v, const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (v == c) return {};
  return "not an accepted value";
}

std::string check_choices(const std::vector<std::string>& v, const std::vector<std::string>& choices) {
  for (const auto& item : v)
    if (!check_choices(item, choices).empty()) return "item '" + item + "' is not an accepted value";
  return {};
}

std::string parse_size(const std::string& text, std::int64_t& bytes) {
  auto t = trim(text);
  if (t.empty()) return "empty size";
  std::int64_t mult = 1;
  char last = t.back();
  if (last == 'K' || last == 'k') mult = 1LL << 10;
  if (last == 'M' || last == 'm') mult = 1LL << 20;
  if (last == 'G' || last == 'g') mult = 1LL << 30;
  if (mult != 1 || last == 'B' || last == 'b') t.pop_back();
  std::int64_t v = 0;
  if (auto err = parse_value(t, v); !err.empty() || v < 0)
    return "not a size (use bytes or a K/M/G suffix, e.g. 25M)";
  bytes = v * mult;
  return {};
}

std::string parse_duration(const std::string& text, std::int64_t& seconds) {
  auto t = trim(text);
  const std::string bad = "not a duration (use HH:MM:SS, D-HH:MM:SS, minutes, or 90s/15m/2h)";
  if (t.empty()) return bad;
  char unit = t.back();
  if (unit == 's' || unit == 'm' || unit == 'h') {
    std::int64_t v = 0;
    if (!parse_value(t.substr(0, t.size() - 1), v).empty() || v < 0) return bad;
    seconds = v * (unit == 's' ? 1 : unit == 'm' ? 60 : 3600);
    return {};
  }
  std::int64_t days = 0;
  auto dash = t.find('-');
  if (dash != std::string::npos) {
    if (!parse_value(t.substr(0, dash), days).empty() || days < 0) return bad;
    t = t.substr(dash + 1);
  }
  auto parts = split(t, ':', false);
  std::vector<std::int64_t> v;
  for (const auto& p : parts) {
    std::int64_t x = 0;
    if (!parse_value(p, x).empty() || x < 0) return bad;
    v.push_back(x);
  }
  std::int64_t s = 0;
  if (dash != std::string::npos) {  // D-HH[:MM[:SS]]
    if (v.empty() || v.size() > 3) return bad;
    s = v[0] * 3600 + (v.size() > 1 ? v[1] * 60 : 0) + (v.size() > 2 ? v[2] : 0);
  } else if (v.size() == 1) {  // MM
    s = v[0] * 60;
  } else if (v.size() == 2) {  // MM:SS
    s = v[0] * 60 + v[1];
  } else if (v.size() == 3) {  // HH:MM:SS
    s = v[0] * 3600 + v[1] * 60 + v[2];
  } else {
    return bad;
  }
  seconds = days * 86400 + s;
  return {};
}

std::string format_walltime(std::int64_t seconds) {
  std::int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  char buf[64];
  if (d > 0)
    std::snprintf(buf, sizeof buf, "%lld-%02lld:%02lld:%02lld", (long long)d, (long long)h, (long long)m, (long long)s);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", (long long)h, (long long)m, (long long)s);
  return buf;
}

}  // namespace sdn::parse

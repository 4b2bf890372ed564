// Implements the tolerant INI reader (see ini_doc.hpp).
#include "slurm/ini_doc.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/error.hpp"
#include "core/options.hpp"
#include "core/parse.hpp"

namespace sdn::slurm {

IniDoc IniDoc::parse(const std::string& text, const std::string& origin) {
  IniDoc doc;
  doc.origin_ = origin;
  std::istringstream in(text);
  std::string line, section;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string t = parse::trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    const std::string at = origin + ":" + std::to_string(line_no) + ": ";
    if (t[0] == '[') {
      if (t.back() != ']' || t.size() < 3) {
        doc.problems_.push_back(at + "malformed section header '" + t + "' (expected [name])");
        continue;
      }
      section = parse::trim(t.substr(1, t.size() - 2));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos || parse::trim(t.substr(0, eq)).empty()) {
      doc.problems_.push_back(at + "expected 'key = value', got '" + t + "'");
      continue;
    }
    std::string key = parse::trim(t.substr(0, eq));
    std::string full = section.empty() ? key : section + "." + key;
    if (doc.values_.count(full)) {
      doc.problems_.push_back(at + "key '" + full + "' repeated (first at line " +
                              std::to_string(doc.values_[full].line) + ")");
      continue;
    }
    doc.values_[full] = Value{parse::trim(t.substr(eq + 1)), line_no};
  }
  return doc;
}

IniDoc IniDoc::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(path + ": cannot open file", "check the path (relative paths start at the current directory)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

std::string IniDoc::where(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? origin_ : origin_ + ":" + std::to_string(it->second.line);
}

std::string IniDoc::raw(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string() : it->second.text;
}

std::vector<std::string> IniDoc::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : values_) out.push_back(kv.first);
  return out;
}

int IniDoc::line(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second.line;
}

std::vector<std::string> IniDoc::sections_with_prefix(const std::string& prefix) const {
  std::map<std::string, int> first_line;  // section -> line of its first key, to keep the file's order
  for (const auto& kv : values_) {
    if (kv.first.rfind(prefix, 0) != 0) continue;
    auto dot = kv.first.rfind('.');
    if (dot == std::string::npos || dot < prefix.size()) continue;
    auto [it, fresh] = first_line.emplace(kv.first.substr(0, dot), kv.second.line);
    if (!fresh) it->second = std::min(it->second, kv.second.line);
  }
  std::vector<std::pair<int, std::string>> ordered;
  for (const auto& [section, line] : first_line) ordered.emplace_back(line, section);
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::string> out;
  for (const auto& o : ordered) out.push_back(o.second);
  return out;
}

std::string IniDoc::bad(const std::string& key, const std::string& reason) const {
  return where(key) + ": " + key + " = '" + raw(key) + "': " + reason;
}

namespace {
template <class T>
bool read_typed(IniDoc& doc, const std::string& key, T& out, const std::function<std::string(const std::string&, T&)>& conv,
                std::vector<std::string>& problems, const std::string& bad_prefix) {
  if (!doc.has(key)) return false;
  T v{};
  auto err = conv(doc.raw(key), v);
  if (!err.empty()) {
    problems.push_back(bad_prefix + err);
    return false;
  }
  out = v;
  return true;
}
}  // namespace

#define SDN_INI_READ(T)                                                                                    \
  bool IniDoc::read(const std::string& key, T& out) {                                                      \
    std::function<std::string(const std::string&, T&)> conv = [](const std::string& s, T& v) {            \
      return parse::parse_value(s, v);                                                                     \
    };                                                                                                     \
    return read_typed<T>(*this, key, out, conv, problems_, has(key) ? bad(key, "") : std::string());       \
  }
SDN_INI_READ(std::string)
SDN_INI_READ(int)
SDN_INI_READ(std::int64_t)
SDN_INI_READ(double)
SDN_INI_READ(bool)
#undef SDN_INI_READ

bool IniDoc::read(const std::string& key, std::vector<std::string>& out) {
  if (!has(key)) return false;
  out.clear();
  for (const auto& item : parse::split(raw(key), ',')) {
    auto t = parse::trim(item);
    if (!t.empty()) out.push_back(t);
  }
  return true;
}

bool IniDoc::read_duration(const std::string& key, std::int64_t& seconds) {
  std::function<std::string(const std::string&, std::int64_t&)> conv = [](const std::string& s, std::int64_t& v) {
    return parse::parse_duration(s, v);
  };
  return read_typed<std::int64_t>(*this, key, seconds, conv, problems_, has(key) ? bad(key, "") : std::string());
}

bool IniDoc::read_size_mb(const std::string& key, std::int64_t& megabytes) {
  std::function<std::string(const std::string&, std::int64_t&)> conv = [](const std::string& s, std::int64_t& v) {
    std::string t = parse::trim(s);
    bool plain = !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
    std::int64_t bytes = 0;
    // A plain number is megabytes here (Slurm's --mem convention), not bytes.
    auto err = parse::parse_size(plain ? t + "M" : t, bytes);
    if (!err.empty()) return std::string("not a memory size (use e.g. 92G or 4000M)");
    v = bytes / (1024 * 1024);
    return std::string();
  };
  return read_typed<std::int64_t>(*this, key, megabytes, conv, problems_, has(key) ? bad(key, "") : std::string());
}

bool IniDoc::require(const std::string& key, const std::string& what) {
  if (has(key)) return true;
  problems_.push_back(origin_ + ": missing key '" + key + "' (" + what + ")");
  return false;
}

void IniDoc::reject_unknown(const std::vector<std::string>& known) {
  auto matches = [](const std::string& pattern, const std::string& key) {
    auto star = pattern.find('*');
    if (star == std::string::npos) return pattern == key;
    std::string head = pattern.substr(0, star), tail = pattern.substr(star + 1);
    return key.size() > head.size() + tail.size() && key.rfind(head, 0) == 0 &&
           key.compare(key.size() - tail.size(), tail.size(), tail) == 0 &&
           key.substr(head.size(), key.size() - head.size() - tail.size()).find('.') == std::string::npos;
  };
  for (const auto& [key, value] : values_) {
    bool ok = false;
    for (const auto& k : known) ok = ok || matches(k, key);
    if (ok) continue;
    // Suggest against the concrete spelling of pattern keys in the same section.
    std::vector<std::string> candidates;
    auto dot = key.rfind('.');
    for (const auto& k : known) {
      auto star = k.find('*');
      if (star == std::string::npos) {
        candidates.push_back(k);
      } else if (dot != std::string::npos) {
        candidates.push_back(key.substr(0, dot) + k.substr(k.rfind('.')));
      }
    }
    auto guess = opt::closest_key(key, candidates);
    problems_.push_back(where(key) + ": unknown key '" + key + "'" +
                        (guess.empty() ? std::string() : " (did you mean '" + guess + "'?)"));
  }
}

void IniDoc::throw_if_problems(const std::string& what, const std::string& hint) const {
  if (problems_.empty()) return;
  std::string msg = "invalid " + what + " " + origin_ + ":";
  for (const auto& p : problems_) msg += "\n  - " + p;
  throw UsageError(msg, hint);
}

std::string set_ini_values(const std::string& text,
                           const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> lines;  // verbatim (parse::split trims)
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto section_of = [](const std::string& t) { return t.substr(1, t.find(']') - 1); };
  for (const auto& [full, value] : values) {
    const auto dot = full.rfind('.');
    const std::string section = dot == std::string::npos ? "" : full.substr(0, dot);
    const std::string key = dot == std::string::npos ? full : full.substr(dot + 1);
    const std::string entry = key + " = " + value;
    std::string current;
    int last_in_section = section.empty() ? -1 : -2;  // -1: before the first header; -2: section not seen
    bool done = false;
    for (int i = 0; i < static_cast<int>(lines.size()) && !done; ++i) {
      const std::string t = parse::trim(lines[static_cast<std::size_t>(i)]);
      if (t.empty() || t[0] == '#' || t[0] == ';') continue;
      if (t[0] == '[') {
        current = section_of(t);
        if (current == section) last_in_section = i;
        continue;
      }
      if (current != section) continue;
      last_in_section = i;
      const auto eq = t.find('=');
      if (eq != std::string::npos && parse::trim(t.substr(0, eq)) == key) {
        lines[static_cast<std::size_t>(i)] = entry;
        done = true;
      }
    }
    if (done) continue;
    if (last_in_section == -2) {
      lines.push_back("");
      lines.push_back("[" + section + "]");
      lines.push_back(entry);
    } else {
      lines.insert(lines.begin() + (last_in_section + 1), entry);
    }
  }
  return parse::join(lines, "\n") + "\n";
}

}  // namespace sdn::slurm

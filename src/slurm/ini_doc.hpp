// A small, tolerant INI reader for cluster profiles and the keys `sdn plan` needs from a stage config.
// Unlike core/options.hpp it does not require a schema for the whole file (a stage config holds many keys the
// planner ignores); every value keeps its line so each problem names "file:line: key".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sdn::slurm {

class IniDoc {
 public:
  // Parses INI text: `[section]` headers, `key = value`, full-line comments starting with '#' or ';'.
  // Keys are "section.key" (just "key" before the first header). Syntax errors are collected in problems().
  static IniDoc parse(const std::string& text, const std::string& origin);
  // Reads and parses a file; an unreadable file throws UsageError naming it.
  static IniDoc load(const std::string& path);

  const std::string& origin() const { return origin_; }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // "file:12" for a present key, "file" otherwise.
  std::string where(const std::string& key) const;
  // Line of a key in its file; 0 if absent.
  int line(const std::string& key) const;
  // Raw value of a key; empty if absent.
  std::string raw(const std::string& key) const;
  // Every key, in "section.key" form, sorted.
  std::vector<std::string> keys() const;
  // The distinct section names that start with `prefix` (e.g. "partition." -> {"partition.gpu", ...}), in file order.
  std::vector<std::string> sections_with_prefix(const std::string& prefix) const;

  // Typed reads. A missing key leaves `out` untouched and returns false (required keys: see require()).
  // A present but malformed value records "file:line: key = 'v': reason" and returns false.
  bool read(const std::string& key, std::string& out);
  bool read(const std::string& key, int& out);
  bool read(const std::string& key, std::int64_t& out);
  bool read(const std::string& key, double& out);
  bool read(const std::string& key, bool& out);
  bool read(const std::string& key, std::vector<std::string>& out);  // comma list, items trimmed
  bool read_duration(const std::string& key, std::int64_t& seconds);  // 48:00:00, 30, 90s, 2h
  bool read_size_mb(const std::string& key, std::int64_t& megabytes);  // 92G, 4000M, plain MB

  // Records "file: missing key 'k' (what)" if absent; returns presence.
  bool require(const std::string& key, const std::string& what);
  // Records "file:line: unknown key 'k' (did you mean ...)" for keys outside `known` (exact or section prefix
  // patterns ending in '*', e.g. "partition.*.max_nodes").
  void reject_unknown(const std::vector<std::string>& known);
  void add_problem(const std::string& problem) { problems_.push_back(problem); }
  const std::vector<std::string>& problems() const { return problems_; }
  // Throws one UsageError "invalid <what> <origin>:" listing every problem, with `hint`.
  void throw_if_problems(const std::string& what, const std::string& hint) const;

 private:
  struct Value {
    std::string text;
    int line = 0;
  };
  std::string bad(const std::string& key, const std::string& reason) const;

  std::string origin_;
  std::map<std::string, Value> values_;
  std::vector<std::string> problems_;
};

// `text` (INI) with each "section.key" set to its value: an existing line is replaced, a missing key is added at
// the end of its section (the section is appended when missing). Everything else stays as it is; applying the same
// values twice gives the same text. Used to write command-line overrides into run.ini.
std::string set_ini_values(const std::string& text, const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace sdn::slurm

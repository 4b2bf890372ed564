// Declarative options: one table per subcommand binds each key to a field of that command's config struct.
// Boost.Program_options parses the command line and INI files (precedence: command line > file > default,
// defaults taken from the struct's own initialisers); conversion and range checks collect *all* problems and
// name their source ("command line" or "file.ini:12") before one UsageError is thrown.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sdn::opt {

// Where a value came from, for error messages and `sdn ... --help`.
struct Origin {
  std::string text;  // "command line", "configs/semantic.ini:12" or "default"
};

// Constraint on a value: a closed range or a set of choices (empty = none).
struct Range {
  double min;
  double max;
};
using Choices = std::vector<std::string>;

// One option of a subcommand, type-erased over the config struct C.
template <class C>
struct Option {
  std::string key;
  std::string help;
  std::string default_text;
  std::string accepted;                                             // "integer in [1, 64]", "one of a|b"
  std::function<std::string(C&, const std::string&)> assign;        // returns an error text or ""
  std::function<std::string(const C&)> format;                      // current value as text
  bool flag = false;                                                // boolean: `--key` alone means true
};

template <class C>
class Schema {
 public:
  // `prototype` is the config before any option is applied: the defaults shown by --help and the start of
  // every parse (a config whose parts are chosen at run time, e.g. a training stage's own sections, needs it).
  Schema(std::string command, std::string summary, C prototype = C{})
      : command_(std::move(command)), summary_(std::move(summary)), prototype_(std::move(prototype)) {}

  // Binds `key` to the field returned by `get`; the default is the field's value in the prototype.
  template <class Get>
  Schema& add(std::string key, std::string help, Get get) {
    return add_checked(std::move(key), std::move(help), get, nullptr, nullptr);
  }
  template <class Get>
  Schema& add(std::string key, std::string help, Get get, Range range) {
    auto r = std::make_shared<Range>(range);
    return add_checked(std::move(key), std::move(help), get, r, nullptr);
  }
  template <class Get>
  Schema& add(std::string key, std::string help, Get get, Choices choices) {
    auto c = std::make_shared<Choices>(std::move(choices));
    return add_checked(std::move(key), std::move(help), get, nullptr, c);
  }
  // Adds every option of `other` (same keys, help, defaults), bound to the part of C that `part` returns:
  // a command that builds a training stage takes the stage's whole config next to its own keys.
  template <class D, class Part>
  Schema& include(const Schema<D>& other, Part part) {
    for (const auto& o : other.options()) {
      Option<C> lifted;
      lifted.key = o.key;
      lifted.help = o.help;
      lifted.default_text = o.default_text;
      lifted.accepted = o.accepted;
      lifted.flag = o.flag;
      lifted.assign = [assign = o.assign, part](C& c, const std::string& text) { return assign(part(c), text); };
      lifted.format = [format = o.format, part](const C& c) { return format(part(const_cast<C&>(c))); };
      options_.push_back(std::move(lifted));
    }
    part(prototype_) = other.prototype();
    return *this;
  }
  // Positional arguments map, in order, onto these keys (e.g. `sdn ckpt inspect FILE`).
  Schema& positional(std::string key) {
    positionals_.push_back(std::move(key));
    return *this;
  }

  const std::string& command() const { return command_; }
  const std::string& summary() const { return summary_; }
  const std::vector<Option<C>>& options() const { return options_; }
  const std::vector<std::string>& positionals() const { return positionals_; }
  const C& prototype() const { return prototype_; }

  // The resolved config as INI text (sections from dotted keys), e.g. RUN/run.ini.
  std::string to_ini(const C& cfg) const;

 private:
  template <class Get>
  Schema& add_checked(std::string key, std::string help, Get get, std::shared_ptr<Range> range,
                      std::shared_ptr<Choices> choices);

  std::string command_;
  std::string summary_;
  std::vector<Option<C>> options_;
  std::vector<std::string> positionals_;
  C prototype_;
};

// Raw, untyped result of reading the command line and config files: key -> (value, origin).
struct RawValues {
  std::map<std::string, std::pair<std::string, Origin>> values;
  std::vector<std::string> errors;  // unknown keys, syntax errors, unreadable files
  bool help = false;
};

// A key as the reader needs it: its name and whether it is a boolean flag.
struct KeySpec {
  std::string key;
  bool flag = false;
};

// Reads argv (after the subcommand) and any `--config FILE` it names (later files override earlier ones,
// the command line overrides all). Pure apart from reading those files.
RawValues read_raw(const std::vector<KeySpec>& keys, const std::vector<std::string>& positionals,
                   const std::vector<std::string>& args);

// The value `key` gets from `args` and the files they name (same precedence as parse), ignoring every other
// key and any problem: what a command needs to know before it can build the full schema (e.g. `stage`).
std::optional<std::string> peek_value(const std::string& key, std::vector<std::string> args);

// Line number (1-based) of every `key = value` in INI text, keyed by "section.key"; malformed lines are
// reported in `errors` as "line N: ...".
std::map<std::string, int> ini_key_lines(const std::string& text, std::vector<std::string>& errors);

// "did you mean" helper: the closest known key within a small edit distance, or "".
std::string closest_key(const std::string& unknown, const std::vector<std::string>& keys);

// Usage text listing every option with its default and accepted values.
std::string usage_text(const std::string& command, const std::string& summary,
                       const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& rows,
                       const std::vector<std::string>& positionals);

// Result of parsing: the config, or a request for help (usage text already formatted).
template <class C>
struct Parsed {
  C config;
  bool help = false;
  std::string usage;
};

// Parses args into C, then runs validate(C) -> vector<string> of cross-field problems.
// Throws one UsageError listing every problem found.
template <class C>
Parsed<C> parse(const Schema<C>& schema, const std::vector<std::string>& args,
                const std::function<std::vector<std::string>(const C&)>& validate = {});

// ---------------------------------------------------------------------------------------------------------------
// Template implementation.

template <class C>
template <class Get>
Schema<C>& Schema<C>::add_checked(std::string key, std::string help, Get get, std::shared_ptr<Range> range,
                                  std::shared_ptr<Choices> choices) {
  using V = std::remove_reference_t<std::invoke_result_t<Get, C&>>;
  Option<C> o;
  o.key = key;
  o.help = std::move(help);
  C defaults = prototype_;
  o.default_text = parse::format_value(get(defaults));
  o.accepted = parse::type_name<V>();
  if (range) o.accepted += " in [" + parse::format_value(range->min) + ", " + parse::format_value(range->max) + "]";
  if (choices) o.accepted = "one of " + parse::join(*choices, "|");
  o.assign = [get, range, choices](C& c, const std::string& text) -> std::string {
    V value{};
    if (auto err = parse::parse_value(text, value); !err.empty()) return err;
    if (range) {
      if (auto err = parse::check_range(value, range->min, range->max); !err.empty()) return err;
    }
    if (choices) {
      if (auto err = parse::check_choices(value, *choices); !err.empty()) return err;
    }
    get(c) = std::move(value);
    return {};
  };
  o.format = [get](const C& c) { return parse::format_value(get(const_cast<C&>(c))); };
  o.flag = std::is_same_v<V, bool>;
  options_.push_back(std::move(o));
  return *this;
}

template <class C>
std::string Schema<C>::to_ini(const C& cfg) const {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;
  for (const auto& o : options_) {
    auto dot = o.key.rfind('.');
    std::string section = dot == std::string::npos ? "" : o.key.substr(0, dot);
    std::string name = dot == std::string::npos ? o.key : o.key.substr(dot + 1);
    sections[section].emplace_back(name, o.format(cfg));
  }
  std::string out;
  for (const auto& [section, entries] : sections) {
    if (!section.empty()) out += "\n[" + section + "]\n";
    for (const auto& [name, value] : entries) out += name + " = " + value + "\n";
  }
  return out;
}

template <class C>
Parsed<C> parse(const Schema<C>& schema, const std::vector<std::string>& args,
                const std::function<std::vector<std::string>(const C&)>& validate) {
  std::vector<KeySpec> keys;
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> rows;
  for (const auto& o : schema.options()) {
    keys.push_back({o.key, o.flag});
    rows.emplace_back(o.key, o.help, o.default_text, o.accepted);
  }
  Parsed<C> out;
  out.config = schema.prototype();
  RawValues raw = read_raw(keys, schema.positionals(), args);
  if (raw.help) {
    out.help = true;
    out.usage = usage_text(schema.command(), schema.summary(), rows, schema.positionals());
    return out;
  }
  std::vector<std::string> errors = raw.errors;
  for (const auto& o : schema.options()) {
    auto it = raw.values.find(o.key);
    if (it == raw.values.end()) continue;
    const auto& [text, origin] = it->second;
    if (auto err = o.assign(out.config, text); !err.empty())
      errors.push_back(origin.text + ": " + o.key + " = '" + text + "': " + err + " (accepted: " + o.accepted + ")");
  }
  if (errors.empty() && validate) {
    for (auto& e : validate(out.config)) errors.push_back(std::move(e));
  }
  if (!errors.empty()) {
    std::string msg = "invalid configuration for 'sdn " + schema.command() + "':";
    for (const auto& e : errors) msg += "\n  - " + e;
    throw UsageError(msg, "see 'sdn " + schema.command() + " --help' for every option, its default and accepted values");
  }
  return out;
}

}  // namespace sdn::opt

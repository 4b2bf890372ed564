// Implements the untyped half of option parsing: Boost.Program_options over argv and INI files, with the
// origin of every value, unknown-key detection with suggestions, and the usage table (see options.hpp).
#include "core/options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace po = boost::program_options;

namespace sdn::opt {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(const std::string& unknown, const std::vector<std::string>& keys, const std::string& prefix) {
  auto best = closest_key(unknown, keys);
  return best.empty() ? std::string{} : " (did you mean '" + prefix + best + "'?)";
}

po::options_description describe(const std::vector<KeySpec>& keys) {
  po::options_description desc;
  desc.add_options()("help,h", "show this help")("config", po::value<std::vector<std::string>>(), "INI file")(
      "__extra", po::value<std::vector<std::string>>(), "surplus positional arguments");
  for (const auto& k : keys) {
    auto* v = po::value<std::string>();
    if (k.flag) v->implicit_value("true");
    desc.add_options()(k.key.c_str(), v, "");
  }
  return desc;
}

// Reads one INI file into `raw`, not overriding values that already came from the command line.
void read_file(const std::string& path, const std::vector<KeySpec>& keys, const std::set<std::string>& from_cli,
               RawValues& raw) {
  std::ifstream in(path);
  if (!in) {
    raw.errors.push_back(path + ": cannot open config file (check the path given to --config)");
    return;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::vector<std::string> syntax;
  auto lines = ini_key_lines(buf.str(), syntax);
  for (const auto& e : syntax) raw.errors.push_back(path + ":" + e);
  if (!syntax.empty()) return;

  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.key);
  std::istringstream text(buf.str());
  po::parsed_options parsed = po::parse_config_file(text, describe(keys), /*allow_unregistered=*/true);
  for (const auto& o : parsed.options) {
    std::string where = path + ":" + std::to_string(lines.count(o.string_key) ? lines.at(o.string_key) : 0);
    if (o.unregistered || o.string_key == "config" || o.string_key == "help") {
      raw.errors.push_back(where + ": unknown key '" + o.string_key + "'" + suggestion(o.string_key, names, ""));
      continue;
    }
    if (from_cli.count(o.string_key) || o.value.empty()) continue;
    raw.values[o.string_key] = {o.value.front(), Origin{where}};
  }
}

}  // namespace

std::string closest_key(const std::string& unknown, const std::vector<std::string>& keys) {
  std::string best;
  size_t best_d = std::max<size_t>(3, unknown.size() / 3) + 1;
  for (const auto& k : keys) {
    size_t d = edit_distance(unknown, k);
    // A key that ends with the unknown word ("lr" for "optim.lr") is a good guess too.
    if (k.size() > unknown.size() && k.compare(k.size() - unknown.size(), unknown.size(), unknown) == 0 &&
        k[k.size() - unknown.size() - 1] == '.')
      d = 1;
    if (d < best_d) best_d = d, best = k;
  }
  return best;
}

std::map<std::string, int> ini_key_lines(const std::string& text, std::vector<std::string>& errors) {
  std::map<std::string, int> out;
  std::istringstream in(text);
  std::string line, section;
  for (int n = 1; std::getline(in, line); ++n) {
    auto t = parse::trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']' || t.size() < 3) {
        errors.push_back(std::to_string(n) + ": malformed section header '" + t + "' (expected [name])");
        continue;
      }
      section = parse::trim(t.substr(1, t.size() - 2));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos || parse::trim(t.substr(0, eq)).empty()) {
      errors.push_back(std::to_string(n) + ": expected 'key = value', got '" + t + "'");
      continue;
    }
    auto key = parse::trim(t.substr(0, eq));
    out[section.empty() ? key : section + "." + key] = n;
  }
  return out;
}

RawValues read_raw(const std::vector<KeySpec>& keys, const std::vector<std::string>& positionals,
                   const std::vector<std::string>& args) {
  RawValues raw;
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.key);
  po::positional_options_description pos;
  for (const auto& p : positionals) pos.add(p.c_str(), 1);
  pos.add("__extra", -1);

  std::vector<std::string> files;
  std::set<std::string> from_cli;
  std::vector<std::string> extra;
  bool unknown_seen = false;
  try {
    auto parsed = po::command_line_parser(args).options(describe(keys)).positional(pos).allow_unregistered().run();
    for (const auto& o : parsed.options) {
      if (o.unregistered) {
        const std::string& name = o.original_tokens.empty() ? o.string_key : o.original_tokens.front();
        std::string bare = name.rfind("--", 0) == 0 ? name.substr(2) : name;
        bare = bare.substr(0, bare.find('='));
        raw.errors.push_back("command line: unknown option '" + name + "'" + suggestion(bare, names, "--"));
        unknown_seen = true;
      } else if (o.string_key == "__extra") {
        extra.insert(extra.end(), o.value.begin(), o.value.end());
      } else if (o.string_key == "help") {
        raw.help = true;
      } else if (o.string_key == "config") {
        files.insert(files.end(), o.value.begin(), o.value.end());
      } else {
        if (from_cli.count(o.string_key))
          raw.errors.push_back("command line: option '--" + o.string_key + "' given more than once");
        // A bare boolean flag arrives without a value (its implicit value is applied only by po::store).
        raw.values[o.string_key] = {o.value.empty() ? "true" : o.value.front(), Origin{"command line"}};
        from_cli.insert(o.string_key);
      }
    }
    // The value of an unknown option lands among the positionals; only report surplus ones on their own.
    if (!unknown_seen)
      for (const auto& e : extra) raw.errors.push_back("command line: unexpected argument '" + e + "'");
  } catch (const po::error& e) {
    raw.errors.push_back(std::string("command line: ") + e.what());
  }
  if (raw.help) return raw;
  // Later files override earlier ones: read them last-first and never overwrite.
  std::set<std::string> taken = from_cli;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    read_file(*it, keys, taken, raw);
    for (const auto& [k, v] : raw.values) taken.insert(k);
  }
  return raw;
}

std::optional<std::string> peek_value(const std::string& key, std::vector<std::string> args) {
  // Without --help: the files are read only when no help is asked for, and `--config X --help` must still
  // show the keys X selects.
  args.erase(std::remove_if(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; }),
             args.end());
  auto raw = read_raw({{key, false}}, {}, args);
  auto it = raw.values.find(key);
  if (it == raw.values.end()) return std::nullopt;
  return it->second.first;
}

std::string usage_text(const std::string& command, const std::string& summary,
                       const std::vector<std::tuple<std::string, std::string, std::string, std::string>>& rows,
                       const std::vector<std::string>& positionals) {
  std::ostringstream os;
  os << "usage: sdn " << command;
  for (const auto& p : positionals) os << " <" << p << ">";
  os << " [--config FILE.ini] [options]\n\n" << summary << "\n\n";
  os << "Options (command line > --config file > default; INI sections map to dotted keys):\n";
  os << "  --help                 show this help\n";
  os << "  --config FILE          INI file(s) with the same keys; later files override earlier ones\n";
  for (const auto& [key, help, def, accepted] : rows) {
    os << "  --" << key;
    int pad = 21 - static_cast<int>(key.size());
    os << std::string(pad > 1 ? pad : 1, ' ') << help << "\n";
    os << std::string(25, ' ') << "default: " << (def.empty() ? "(none)" : def) << "; " << accepted << "\n";
  }
  return os.str();
}

}  // namespace sdn::opt

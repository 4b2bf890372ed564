// Implements the run's checkpoint directory (see store.hpp).
#include "ckpt/store.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"

namespace fsys = std::filesystem;

namespace sdn::ckpt {
namespace {
constexpr const char* kLatest = "latest";
}

std::string step_file_name(std::int64_t step) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "step-%08lld.h5", static_cast<long long>(step));
  return buf;
}

std::optional<std::int64_t> step_of_file_name(const std::string& name) {
  if (name.size() < 9 || name.rfind("step-", 0) != 0 || name.compare(name.size() - 3, 3, ".h5") != 0) return {};
  std::int64_t step = 0;
  if (!parse::parse_value(name.substr(5, name.size() - 8), step).empty() || step < 0) return {};
  return step;
}

std::vector<std::int64_t> steps_to_delete(std::vector<std::int64_t> steps, const RetentionOptions& r) {
  std::sort(steps.begin(), steps.end());
  std::vector<std::int64_t> out;
  const size_t keep = static_cast<size_t>(std::max(1, r.keep_last));
  for (size_t i = 0; i + keep < steps.size(); ++i) {
    const bool milestone = r.milestone_every > 0 && steps[i] % r.milestone_every == 0;
    if (!milestone) out.push_back(steps[i]);
  }
  return out;
}

Store::Store(std::string dir) : dir_(std::move(dir)) { fs::ensure_writable_dir(dir_); }

std::vector<std::int64_t> Store::steps() const {
  std::vector<std::int64_t> out;
  for (const auto& e : fsys::directory_iterator(dir_))
    if (auto s = step_of_file_name(e.path().filename().string())) out.push_back(*s);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> Store::latest() const {
  const auto p = fsys::path(dir_) / kLatest;
  if (!fsys::exists(p)) return {};
  auto name = parse::trim(fs::read_file(p.string()));
  if (name.empty()) return {};
  return (fsys::path(dir_) / name).string();
}

std::string Store::save(const Checkpoint& c, const RetentionOptions& r, const WriteHook& hook) {
  const std::string name = step_file_name(c.meta.step);
  const std::string path = (fsys::path(dir_) / name).string();
  write_checkpoint(path, c, hook);
  // The pointer moves only after the checkpoint itself is durable: `latest` never names a torn file.
  fs::write_atomic((fsys::path(dir_) / kLatest).string(), name + "\n");
  for (auto s : steps_to_delete(steps(), r)) {
    std::error_code ec;
    fsys::remove(fsys::path(dir_) / step_file_name(s), ec);
  }
  return path;
}

std::optional<ResumePoint> Store::newest_valid() const {
  auto all = steps();
  if (all.empty()) return {};
  ResumePoint rp;
  // Newest first. `latest` normally names the newest; if it names an older file (a crash between the
  // checkpoint's rename and the pointer update), the newer complete file is still preferred.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string path = (fsys::path(dir_) / step_file_name(*it)).string();
    try {
      rp.checkpoint = read_checkpoint(path, /*verify=*/true);
      rp.path = path;
      return rp;
    } catch (const std::exception& e) {
      rp.skipped.push_back(path + ": " + e.what());
    }
  }
  std::string why;
  for (const auto& s : rp.skipped) why += "\n  - " + s;
  throw Error("no checkpoint in " + dir_ + " verifies:" + why,
              "inspect them with `sdn ckpt verify`; move the directory away to start the run afresh");
}

void Store::remove_stale_temporaries() const {
  for (const auto& e : fsys::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (name.find(".h5.tmp.") != std::string::npos || name.rfind(std::string(kLatest) + ".tmp.", 0) == 0) {
      std::error_code ec;
      fsys::remove(e.path(), ec);
    }
  }
}

std::vector<std::string> config_differences(const std::vector<std::string>& saved, const std::vector<std::string>& now) {
  auto to_map = [](const std::vector<std::string>& v) {
    std::map<std::string, std::string> m;
    for (const auto& e : v) {
      auto eq = e.find('=');
      m[parse::trim(e.substr(0, eq))] = eq == std::string::npos ? "" : parse::trim(e.substr(eq + 1));
    }
    return m;
  };
  auto a = to_map(saved), b = to_map(now);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  std::vector<std::string> out;
  for (const auto& k : keys) {
    auto ia = a.find(k), ib = b.find(k);
    std::string va = ia == a.end() ? "(absent)" : "'" + ia->second + "'";
    std::string vb = ib == b.end() ? "(absent)" : "'" + ib->second + "'";
    if (va != vb) out.push_back(k + ": " + va + " in the checkpoint, " + vb + " now");
  }
  return out;
}

std::string config_digest(const std::vector<std::string>& entries) {
  auto sorted = entries;
  std::sort(sorted.begin(), sorted.end());
  std::string joined = parse::join(sorted, "\n");
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", crc32_of(joined.data(), joined.size()));
  return buf;
}

}  // namespace sdn::ckpt

// Implements the vehicle frame list and its cache (see maskrcnn_items.hpp).
#include "train/stages/maskrcnn_items.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/fs.hpp"

namespace sdn::train {
namespace {

constexpr int kCar = 2, kVan = 12;  // 3D-SDN class ids (data/vkitti.hpp)
constexpr const char* kHeader = "sdn maskrcnn vehicle frames 1";

// FNV-1a 64 of the index and the pixel threshold: what decides the list (the index carries every shard's size
// and CRC-32, so a re-pack with other content changes it).
std::string cache_key(const data::ShardSet& set, std::int64_t min_pixels) {
  const std::string text = data::index_to_json(set.index()) + "\nmin_pixels " + std::to_string(min_pixels);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// The cached list if `path` holds one for `key` (and frames within the set), else false.
bool read_cache(const std::string& path, const std::string& key, std::int64_t frames, std::vector<data::Item>& out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  std::istringstream in(fs::read_file(path));
  std::string header, word, got_key;
  std::int64_t count = -1;
  if (!std::getline(in, header) || header != kHeader) return false;
  if (!(in >> word >> got_key) || word != "key" || got_key != key) return false;
  if (!(in >> word >> count) || word != "frames" || count < 0) return false;
  std::vector<data::Item> items;
  items.reserve(static_cast<size_t>(count));
  for (std::int64_t k = 0, f = 0; k < count; ++k) {
    if (!(in >> f) || f < 0 || f >= frames) return false;
    items.push_back({f, -1});
  }
  if (in >> word) return false;  // trailing content: not a file this code wrote
  out = std::move(items);
  return true;
}

void write_cache(const std::string& path, const std::string& key, const std::vector<data::Item>& items) {
  std::ostringstream out;
  out << kHeader << "\nkey " << key << "\nframes " << items.size() << "\n";
  for (const auto& it : items) out << it.frame << "\n";
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  fs::write_atomic(path, out.str());
}

}  // namespace

std::vector<data::Item> vehicle_frame_items(const data::ShardSet& set, std::int64_t min_pixels) {
  std::vector<data::Item> out;
  data::Fields f;
  f.rgb = false;
  f.classes = f.instance = true;
  data::Sample s;
  std::map<std::uint32_t, std::int64_t> count;
  for (std::int64_t i = 0; i < set.size(); ++i) {
    set.read(i, f, s);
    count.clear();
    for (size_t p = 0; p < s.classes.size(); ++p) {
      const int c = s.classes[p];
      if ((c == kCar || c == kVan) && s.instance[p] != 0) ++count[static_cast<std::uint32_t>(c) << 16 | s.instance[p]];
    }
    for (const auto& [key, n] : count)
      if (n > min_pixels) {
        out.push_back({i, -1});
        break;
      }
  }
  return out;
}

std::string vehicle_items_cache_path(const std::string& run_dir, const std::string& split) {
  return run_dir + "/cache/maskrcnn-frames-" + split + ".txt";
}

std::vector<data::Item> cached_vehicle_frame_items(const data::ShardSet& set, std::int64_t min_pixels,
                                                   const std::string& path, bool write, bool* from_cache) {
  if (from_cache) *from_cache = false;
  if (path.empty() || !set.index().has_checksums()) return vehicle_frame_items(set, min_pixels);
  const std::string key = cache_key(set, min_pixels);
  std::vector<data::Item> items;
  if (read_cache(path, key, set.size(), items)) {
    if (from_cache) *from_cache = true;
    return items;
  }
  items = vehicle_frame_items(set, min_pixels);
  if (write) {
    try {
      write_cache(path, key, items);
    } catch (const std::exception& e) {  // a cache that cannot be written only costs the next start a re-read
      spdlog::warn("maskrcnn: could not cache the vehicle frame list in {}: {}", path, e.what());
    }
  }
  return items;
}

}  // namespace sdn::train

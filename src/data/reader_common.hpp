// Pieces both vKITTI readers share: the colour -> (class, instance) table of a label image and its decoding
// with per-pixel errors, image-size agreement checks, file-presence checks that say which layout expected the
// file, and a per-sequence cache that parses each sequence's text files once even under concurrent load().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/frame.hpp"
#include "data/image_io.hpp"
#include "data/text_table.hpp"

namespace sdn::data::detail {

struct Label {
  std::uint8_t class_id = kUnlabelled;
  std::uint16_t instance = 0;  // track id + 1 (1.3.1 "Car:<tid>" lines), 0 for stuff
};

// Colour -> label of one sequence's label images, read from a "<Name>[:<tid>] r g b" table (1.3.1 encoding,
// 2.0.3 colors.txt). Names unknown to 3D-SDN (e.g. "Undefined") map to kUnlabelled.
struct ColorTable {
  std::string source;  // the text file, for error messages
  std::unordered_map<std::uint32_t, Label> labels;
};
ColorTable read_color_table(const TextTable& table, const std::string& name_column, bool instances);

// Fills frame.classes (and frame.instance when `with_instances`) from an RGB label image. Throws Error naming the
// image, the first pixel whose colour is not in the table, that colour and the table's file.
void decode_labels(const img::Image8& image, const std::string& image_path, const ColorTable& table,
                   bool with_instances, Frame& frame);

// Throws Error when `path`'s image is not width x height (the size of `reference_path`, `what_reference`).
void check_size(const std::string& path, int width, int height, int expected_width, int expected_height,
                const std::string& reference_path, const std::string& what_reference);

// Throws Error "<path>: missing; <expectation>" with `hint` when the file does not exist.
void require_file(const std::string& path, const std::string& expectation, const std::string& hint);

// The lowest frame number among files "<prefix>NNNNN.<ext>" in `dir` (-1 when there is none).
int first_frame_in(const std::string& dir, const std::string& prefix, const std::string& ext);

// Parses a sequence's tables once. A failed parse is not cached: the next load() reports the error again.
template <class T>
class SequenceCache {
 public:
  template <class Make>
  std::shared_ptr<const T> get(const std::string& key, Make make) const {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& s = slots_[key];
      if (!s) s = std::make_shared<Slot>();
      slot = s;
    }
    // One parser per sequence; loads of other sequences go on in parallel.
    std::lock_guard<std::mutex> lock(slot->mu);
    if (!slot->value) slot->value = std::make_shared<const T>(make());
    return slot->value;
  }

 private:
  struct Slot {
    std::mutex mu;
    std::shared_ptr<const T> value;
  };
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace sdn::data::detail

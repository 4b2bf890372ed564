// A training sample as the loader hands it to a stage: pixel planes only, already augmented.
// Plain buffers (no LibTorch here); models/ converts batches to tensors.
#pragma once

#include <cstdint>
#include <vector>

namespace sdn::data {

// Which per-pixel fields to read from the shards (reading only what a stage needs saves I/O).
struct Fields {
  bool rgb = true;
  bool classes = true;
  bool instance = false;
  bool depth = false;
};

struct Sample {
  std::int64_t index = -1;  // global sample index within the shard set
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;        // H*W*3 RGB
  std::vector<std::uint8_t> classes;    // H*W
  std::vector<std::uint16_t> instance;  // H*W
  std::vector<std::uint16_t> depth;     // H*W
};

}  // namespace sdn::data

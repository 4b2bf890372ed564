// A training sample as the loader hands it to a stage: pixel planes, and on request the frame's objects and
// camera intrinsics, all already augmented and consistent with each other. Plain buffers (no LibTorch here);
// models/ converts batches to tensors. An item dataset (data/items.hpp) names one object of the frame.
#pragma once

#include <cstdint>
#include <vector>

#include "data/frame.hpp"

namespace sdn::data {

// Which fields to read from the shards (reading only what a stage needs saves I/O).
struct Fields {
  bool rgb = true;
  bool classes = true;
  bool instance = false;
  bool depth = false;
  bool objects = false;  // the /objects rows of the frame and its /intrinsics
};

struct Sample {
  std::int64_t index = -1;   // global frame index within the shard set
  std::int64_t item = -1;    // item index the sampler drew (= index when the loader serves whole frames)
  std::int32_t object = -1;  // which entry of `objects` the item names; -1 = the whole frame
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;        // H*W*3 RGB
  std::vector<std::uint8_t> classes;    // H*W
  std::vector<std::uint16_t> instance;  // H*W
  std::vector<std::uint16_t> depth;     // H*W
  // With Fields::objects: the frame's objects in /objects row order (boxes in this sample's pixel coordinates,
  // pixel centres at integers, inclusive), and its intrinsics in the same coordinates.
  std::vector<ObjectGT> objects;
  Intrinsics K;
};

}  // namespace sdn::data

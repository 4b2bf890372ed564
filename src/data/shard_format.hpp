// The public HDF5 shard schema (docs/data-format.md is its contract): dataset names, the object table's
// compound layout, attribute names and the format version. Shared by the writer, the reader and tests.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>

#include "core/h5.hpp"

namespace sdn::data::shard {

constexpr std::int64_t kFormatVersion = 1;

// Per-sample datasets (first dimension = sample), one chunk per sample and field, stored raw.
constexpr const char* kRgb = "/rgb";            // uint8  [N,H,W,3]
constexpr const char* kClass = "/class";        // uint8  [N,H,W]   3D-SDN ids, 255 unlabelled
constexpr const char* kInstance = "/instance";  // uint16 [N,H,W]   0 none, else track id + 1
constexpr const char* kDepth = "/depth";        // uint16 [N,H,W]   centimetres, 65535 sky
constexpr const char* kWorld = "/world";        // string [N]
constexpr const char* kVariation = "/variation";// string [N]
constexpr const char* kFrame = "/frame";        // int32  [N]
constexpr const char* kCamera = "/camera";      // int32  [N]
constexpr const char* kIntrinsics = "/intrinsics";      // float64 [N,4] fx fy cx cy
constexpr const char* kObjects = "/objects";            // compound [M] (ObjectRow)
constexpr const char* kObjectRange = "/object_range";   // int64 [N,2] first row in /objects, count

// One row of /objects (sample = row index of the frame within this shard).
struct ObjectRow {
  std::int32_t sample;
  std::int32_t track_id;
  std::int32_t class_id;
  float left, top, right, bottom;
  float width3d, height3d, length3d;
  float x3d, y3d, z3d;
  float rotation_y, alpha, truncation, occupancy;
  std::uint8_t moving;
};

// The compound HDF5 type of ObjectRow (native layout in memory, same field names on disk).
h5::Hid object_row_type();

// File names: <split>-00003-of-00016.h5 and the index <split>-index.json.
std::string shard_file_name(const std::string& split, int shard, int num_shards);
std::string index_file_name(const std::string& split);

}  // namespace sdn::data::shard

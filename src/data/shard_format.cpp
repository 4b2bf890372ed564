// Implements the shard schema helpers (see shard_format.hpp).
#include "data/shard_format.hpp"

#include <cstddef>
#include <cstdio>

namespace sdn::data::shard {

h5::Hid object_row_type() {
  h5::Hid t(SDN_H5_CHECK(H5Tcreate(H5T_COMPOUND, sizeof(ObjectRow)), "objects type"));
  auto add = [&](const char* name, size_t offset, hid_t type) {
    SDN_H5_CHECK(H5Tinsert(t, name, offset, type), std::string("objects field ") + name);
  };
  add("sample", offsetof(ObjectRow, sample), H5T_NATIVE_INT32);
  add("track_id", offsetof(ObjectRow, track_id), H5T_NATIVE_INT32);
  add("class", offsetof(ObjectRow, class_id), H5T_NATIVE_INT32);
  add("left", offsetof(ObjectRow, left), H5T_NATIVE_FLOAT);
  add("top", offsetof(ObjectRow, top), H5T_NATIVE_FLOAT);
  add("right", offsetof(ObjectRow, right), H5T_NATIVE_FLOAT);
  add("bottom", offsetof(ObjectRow, bottom), H5T_NATIVE_FLOAT);
  add("width3d", offsetof(ObjectRow, width3d), H5T_NATIVE_FLOAT);
  add("height3d", offsetof(ObjectRow, height3d), H5T_NATIVE_FLOAT);
  add("length3d", offsetof(ObjectRow, length3d), H5T_NATIVE_FLOAT);
  add("x3d", offsetof(ObjectRow, x3d), H5T_NATIVE_FLOAT);
  add("y3d", offsetof(ObjectRow, y3d), H5T_NATIVE_FLOAT);
  add("z3d", offsetof(ObjectRow, z3d), H5T_NATIVE_FLOAT);
  add("rotation_y", offsetof(ObjectRow, rotation_y), H5T_NATIVE_FLOAT);
  add("alpha", offsetof(ObjectRow, alpha), H5T_NATIVE_FLOAT);
  add("truncation", offsetof(ObjectRow, truncation), H5T_NATIVE_FLOAT);
  add("occupancy", offsetof(ObjectRow, occupancy), H5T_NATIVE_FLOAT);
  add("moving", offsetof(ObjectRow, moving), H5T_NATIVE_UINT8);
  return t;
}

std::string shard_file_name(const std::string& split, int shard, int num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%05d-of-%05d.h5", shard, num_shards);
  return split + buf;
}

std::string index_file_name(const std::string& split) { return split + "-index.json"; }

}  // namespace sdn::data::shard

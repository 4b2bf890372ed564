// RAII ownership of HDF5 handles and the thin checked helpers that shards and checkpoints share.
// Every failing call throws sdn::Error naming the file/object and HDF5's own message; HDF5's automatic
// error printing is switched off so a failure prints once, through our logger.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace sdn::h5 {

// Owns one hid_t of any kind (file, group, dataset, dataspace, type, property list); move-only.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(Hid&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Hid& operator=(Hid&& o) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: reads naturally at HDF5 call sites
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// HDF5's innermost error message for the current thread ("" if none); clears the stack.
std::string last_error();

// Maps C++ element types to native HDF5 types.
template <class T> hid_t native();
template <> inline hid_t native<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> inline hid_t native<std::uint16_t>() { return H5T_NATIVE_UINT16; }
template <> inline hid_t native<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> inline hid_t native<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> inline hid_t native<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <> inline hid_t native<float>() { return H5T_NATIVE_FLOAT; }
template <> inline hid_t native<double>() { return H5T_NATIVE_DOUBLE; }

// Files. Readers never take POSIX locks (Lustre/NFS mounts without flock, many ranks on one file).
Hid open_read(const std::string& path);
Hid create_truncate(const std::string& path);
void flush(hid_t file, const std::string& path);

// Datasets: `chunk` empty = contiguous. Rows are slices along dimension 0.
Hid create_dataset(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                   const std::vector<hsize_t>& chunk = {});
Hid open_dataset(hid_t loc, const std::string& name, const std::string& file_for_errors);
std::vector<hsize_t> dims(hid_t dataset);
hid_t stored_type_class(hid_t dataset);  // H5T_INTEGER, H5T_FLOAT, ...
size_t stored_type_size(hid_t dataset);
void write_all(hid_t dataset, hid_t mem_type, const void* data, const std::string& what);
void read_all(hid_t dataset, hid_t mem_type, void* data, const std::string& what);
void write_rows(hid_t dataset, hid_t mem_type, hsize_t first, hsize_t count, const void* data, const std::string& what);
void read_rows(hid_t dataset, hid_t mem_type, hsize_t first, hsize_t count, void* data, const std::string& what);
bool exists(hid_t loc, const std::string& path);
// 1-D datasets of variable-length UTF-8 strings.
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(hid_t loc, const std::string& name, const std::string& file_for_errors);
std::string read_string_at(hid_t loc, const std::string& name, hsize_t index, const std::string& file_for_errors);
Hid create_group(hid_t loc, const std::string& name);

// Attributes (scalars, strings and string lists) on a file, group or dataset.
void set_attr(hid_t obj, const std::string& name, std::int64_t value);
void set_attr(hid_t obj, const std::string& name, double value);
void set_attr(hid_t obj, const std::string& name, const std::string& value);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& values);
bool has_attr(hid_t obj, const std::string& name);
std::int64_t get_attr_int(hid_t obj, const std::string& name, const std::string& file_for_errors);
double get_attr_double(hid_t obj, const std::string& name, const std::string& file_for_errors);
std::string get_attr_string(hid_t obj, const std::string& name, const std::string& file_for_errors);
std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name, const std::string& file_for_errors);
std::vector<std::int64_t> get_attr_ints(hid_t obj, const std::string& name, const std::string& file_for_errors);

}  // namespace sdn::h5

// SDN_H5_CHECK(expr, what): expr returns hid_t/herr_t; negative = failure. `what` names the file/object.
#define SDN_H5_CHECK(expr, what)                                                                   \
  ([&]() {                                                                                         \
    auto sdn_h5_r_ = (expr);                                                                       \
    if (sdn_h5_r_ < 0)                                                                             \
      ::sdn::throw_api_error("HDF5", #expr, __FILE__, __LINE__,                                    \
                             std::string(what) + ": " + ::sdn::h5::last_error());                  \
    return sdn_h5_r_;                                                                              \
  }())

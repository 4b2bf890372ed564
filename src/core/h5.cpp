// Implements the HDF5 handle owner and checked helpers (see h5.hpp).
#include "core/h5.hpp"

#include <mutex>

namespace sdn::h5 {
namespace {

// Turns off HDF5's own stderr dump once per process; our exceptions carry the message instead.
void quiet_once() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (n == 0 && err->desc) *s = std::string(err->func_name ? err->func_name : "") + ": " + err->desc;
  return 0;
}

Hid fapl_without_locking() {
  Hid fapl(SDN_H5_CHECK(H5Pcreate(H5P_FILE_ACCESS), "file access list"));
  // Lustre and NFS mounts often lack flock(); read-only shards never need it. (HDF5 >= 1.10.7)
  SDN_H5_CHECK(H5Pset_file_locking(fapl, false, true), "file access list");
  return fapl;
}

Hid select_rows(hid_t dataset, hsize_t first, hsize_t count, Hid& mem_space, const std::string& what) {
  Hid space(SDN_H5_CHECK(H5Dget_space(dataset), what));
  auto d = dims(dataset);
  if (d.empty() || first + count > d[0])
    throw Error(what + ": rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") outside the dataset's " + std::to_string(d.empty() ? 0 : d[0]) + " rows");
  std::vector<hsize_t> start(d.size(), 0), cnt = d;
  start[0] = first;
  cnt[0] = count;
  SDN_H5_CHECK(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr), what);
  mem_space = Hid(SDN_H5_CHECK(H5Screate_simple(static_cast<int>(cnt.size()), cnt.data(), nullptr), what));
  return space;
}

Hid string_type() {
  Hid t(SDN_H5_CHECK(H5Tcopy(H5T_C_S1), "string type"));
  SDN_H5_CHECK(H5Tset_size(t, H5T_VARIABLE), "string type");
  SDN_H5_CHECK(H5Tset_cset(t, H5T_CSET_UTF8), "string type");
  return t;
}

void write_attr(hid_t obj, const std::string& name, hid_t type, const std::vector<hsize_t>& shape, const void* data) {
  if (H5Aexists(obj, name.c_str()) > 0) SDN_H5_CHECK(H5Adelete(obj, name.c_str()), "attribute " + name);
  Hid space(shape.empty() ? SDN_H5_CHECK(H5Screate(H5S_SCALAR), name)
                          : SDN_H5_CHECK(H5Screate_simple(1, shape.data(), nullptr), name));
  Hid attr(SDN_H5_CHECK(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name));
  SDN_H5_CHECK(H5Awrite(attr, type, data), "attribute " + name);
}

Hid open_attr(hid_t obj, const std::string& name, const std::string& file) {
  if (H5Aexists(obj, name.c_str()) <= 0)
    throw Error(file + ": attribute '" + name + "' is missing",
                "the file was not written by this version of sdn, or is damaged; re-create it");
  return Hid(SDN_H5_CHECK(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file + ": attribute " + name));
}

hssize_t attr_points(hid_t attr, const std::string& what) {
  Hid space(SDN_H5_CHECK(H5Aget_space(attr), what));
  return SDN_H5_CHECK(H5Sget_simple_extent_npoints(space), what);
}

}  // namespace

Hid& Hid::operator=(Hid&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Hid::reset() {
  if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
  id_ = H5I_INVALID_HID;
}

std::string last_error() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg.empty() ? "unknown HDF5 error" : msg;
}

Hid open_read(const std::string& path) {
  quiet_once();
  auto fapl = fapl_without_locking();
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  if (f < 0)
    throw Error("cannot open HDF5 file " + path + ": " + last_error(),
                "check that the file exists, is complete, and was written by sdn (h5dump -H shows its header)");
  return Hid(f);
}

Hid create_truncate(const std::string& path) {
  quiet_once();
  auto fapl = fapl_without_locking();
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (f < 0)
    throw Error("cannot create HDF5 file " + path + ": " + last_error(),
                "check that the directory exists, is writable and has free space");
  return Hid(f);
}

void flush(hid_t file, const std::string& path) { SDN_H5_CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL), path); }

Hid create_dataset(hid_t loc, const std::string& name, hid_t type, const std::vector<hsize_t>& d,
                   const std::vector<hsize_t>& chunk) {
  Hid space(SDN_H5_CHECK(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr), name));
  Hid dcpl(SDN_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE), name));
  if (!chunk.empty()) SDN_H5_CHECK(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), name);
  Hid lcpl(SDN_H5_CHECK(H5Pcreate(H5P_LINK_CREATE), name));
  SDN_H5_CHECK(H5Pset_create_intermediate_group(lcpl, 1), name);
  return Hid(SDN_H5_CHECK(H5Dcreate2(loc, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT), "dataset " + name));
}

Hid open_dataset(hid_t loc, const std::string& name, const std::string& file) {
  if (!exists(loc, name))
    throw Error(file + ": dataset '" + name + "' is missing",
                "the file is incomplete or of another format; re-create it");
  return Hid(SDN_H5_CHECK(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), file + ": dataset " + name));
}

std::vector<hsize_t> dims(hid_t dataset) {
  Hid space(SDN_H5_CHECK(H5Dget_space(dataset), "dataspace"));
  int rank = SDN_H5_CHECK(H5Sget_simple_extent_ndims(space), "dataspace");
  std::vector<hsize_t> d(static_cast<size_t>(rank));
  if (rank > 0) SDN_H5_CHECK(H5Sget_simple_extent_dims(space, d.data(), nullptr), "dataspace");
  return d;
}

hid_t stored_type_class(hid_t dataset) {
  Hid t(SDN_H5_CHECK(H5Dget_type(dataset), "datatype"));
  return H5Tget_class(t);
}

size_t stored_type_size(hid_t dataset) {
  Hid t(SDN_H5_CHECK(H5Dget_type(dataset), "datatype"));
  return H5Tget_size(t);
}

void write_all(hid_t ds, hid_t mem_type, const void* data, const std::string& what) {
  SDN_H5_CHECK(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
}

void read_all(hid_t ds, hid_t mem_type, void* data, const std::string& what) {
  SDN_H5_CHECK(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
}

void write_rows(hid_t ds, hid_t mem_type, hsize_t first, hsize_t count, const void* data, const std::string& what) {
  Hid mem;
  Hid file_space = select_rows(ds, first, count, mem, what);
  SDN_H5_CHECK(H5Dwrite(ds, mem_type, mem, file_space, H5P_DEFAULT, data), what);
}

void read_rows(hid_t ds, hid_t mem_type, hsize_t first, hsize_t count, void* data, const std::string& what) {
  Hid mem;
  Hid file_space = select_rows(ds, first, count, mem, what);
  SDN_H5_CHECK(H5Dread(ds, mem_type, mem, file_space, H5P_DEFAULT, data), what);
}

bool exists(hid_t loc, const std::string& path) {
  // H5Lexists needs every intermediate link to exist; walk the path one component at a time.
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = path.find('/', pos + 1);
    prefix = path.substr(0, next);
    if (!prefix.empty() && prefix != "/" && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    pos = next;
  }
  return true;
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  auto t = string_type();
  auto ds = create_dataset(loc, name, t, {values.size()});
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!values.empty()) write_all(ds, t, ptrs.data(), "dataset " + name);
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name, const std::string& file) {
  auto ds = open_dataset(loc, name, file);
  const std::string what = file + ": dataset " + name;
  if (stored_type_class(ds) != H5T_STRING) throw Error(what + " is not a string dataset");
  auto n = dims(ds);
  std::vector<char*> ptrs(n.empty() ? 0 : n[0], nullptr);
  auto t = string_type();
  if (!ptrs.empty()) read_all(ds, t, ptrs.data(), what);
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  Hid space(SDN_H5_CHECK(H5Dget_space(ds), what));
  if (!ptrs.empty()) H5Dvlen_reclaim(t, space, H5P_DEFAULT, ptrs.data());
  return out;
}

std::string read_string_at(hid_t loc, const std::string& name, hsize_t index, const std::string& file) {
  auto ds = open_dataset(loc, name, file);
  const std::string what = file + ": dataset " + name;
  if (stored_type_class(ds) != H5T_STRING) throw Error(what + " is not a string dataset");
  auto t = string_type();
  char* p = nullptr;
  read_rows(ds, t, index, 1, &p, what);
  std::string out = p ? p : "";
  Hid mem(SDN_H5_CHECK(H5Screate_simple(1, std::vector<hsize_t>{1}.data(), nullptr), what));
  H5Dvlen_reclaim(t, mem, H5P_DEFAULT, &p);
  return out;
}

Hid create_group(hid_t loc, const std::string& name) {
  return Hid(SDN_H5_CHECK(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group " + name));
}

void set_attr(hid_t obj, const std::string& name, std::int64_t v) { write_attr(obj, name, H5T_NATIVE_INT64, {}, &v); }
void set_attr(hid_t obj, const std::string& name, double v) { write_attr(obj, name, H5T_NATIVE_DOUBLE, {}, &v); }
void set_attr(hid_t obj, const std::string& name, const std::string& v) {
  auto t = string_type();
  const char* p = v.c_str();
  write_attr(obj, name, t, {}, &p);
}
void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& v) {
  auto t = string_type();
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  write_attr(obj, name, t, {v.size()}, ptrs.data());
}
void set_attr(hid_t obj, const std::string& name, const std::vector<std::int64_t>& v) {
  write_attr(obj, name, H5T_NATIVE_INT64, {v.size()}, v.data());
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::int64_t get_attr_int(hid_t obj, const std::string& name, const std::string& file) {
  auto a = open_attr(obj, name, file);
  std::int64_t v = 0;
  SDN_H5_CHECK(H5Aread(a, H5T_NATIVE_INT64, &v), file + ": attribute " + name);
  return v;
}

double get_attr_double(hid_t obj, const std::string& name, const std::string& file) {
  auto a = open_attr(obj, name, file);
  double v = 0;
  SDN_H5_CHECK(H5Aread(a, H5T_NATIVE_DOUBLE, &v), file + ": attribute " + name);
  return v;
}

std::string get_attr_string(hid_t obj, const std::string& name, const std::string& file) {
  auto v = get_attr_strings(obj, name, file);
  return v.empty() ? std::string{} : v.front();
}

std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name, const std::string& file) {
  auto a = open_attr(obj, name, file);
  const std::string what = file + ": attribute " + name;
  Hid stored(SDN_H5_CHECK(H5Aget_type(a), what));
  if (H5Tget_class(stored) != H5T_STRING) throw Error(what + " is not a string");
  auto n = static_cast<size_t>(attr_points(a, what));
  auto t = string_type();
  std::vector<char*> ptrs(n, nullptr);
  SDN_H5_CHECK(H5Aread(a, t, ptrs.data()), what);
  std::vector<std::string> out;
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  Hid space(SDN_H5_CHECK(H5Aget_space(a), what));
  H5Dvlen_reclaim(t, space, H5P_DEFAULT, ptrs.data());
  return out;
}

std::vector<std::int64_t> get_attr_ints(hid_t obj, const std::string& name, const std::string& file) {
  auto a = open_attr(obj, name, file);
  const std::string what = file + ": attribute " + name;
  std::vector<std::int64_t> v(static_cast<size_t>(attr_points(a, what)));
  SDN_H5_CHECK(H5Aread(a, H5T_NATIVE_INT64, v.data()), what);
  return v;
}

}  // namespace sdn::h5

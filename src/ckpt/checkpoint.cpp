// Implements the HDF5 checkpoint file (see checkpoint.hpp).
#include "ckpt/checkpoint.hpp"

#include <zlib.h>

#include <unistd.h>

#include <ctime>
#include <exception>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/h5.hpp"

namespace sdn::ckpt {
namespace {

hid_t h5_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return H5T_NATIVE_FLOAT;
    case torch::kDouble: return H5T_NATIVE_DOUBLE;
    case torch::kLong: return H5T_NATIVE_INT64;
    case torch::kInt: return H5T_NATIVE_INT32;
    case torch::kByte: return H5T_NATIVE_UINT8;
    default: throw Error(std::string("checkpoint: unsupported tensor dtype ") + c10::toString(t));
  }
}

torch::ScalarType torch_type(hid_t dataset, const std::string& what) {
  const auto cls = h5::stored_type_class(dataset);
  const auto size = h5::stored_type_size(dataset);
  if (cls == H5T_FLOAT && size == 4) return torch::kFloat;
  if (cls == H5T_FLOAT && size == 8) return torch::kDouble;
  if (cls == H5T_INTEGER && size == 8) return torch::kLong;
  if (cls == H5T_INTEGER && size == 4) return torch::kInt;
  if (cls == H5T_INTEGER && size == 1) return torch::kByte;
  throw Error(what + ": unsupported stored type");
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void write_meta(hid_t f, const Meta& m) {
  h5::set_attr(f, "format_version", m.format_version);
  h5::set_attr(f, "code_version", m.code_version);
  h5::set_attr(f, "stage", m.stage);
  h5::set_attr(f, "step", m.step);
  h5::set_attr(f, "epoch", m.epoch);
  h5::set_attr(f, "loader_position", m.loader_position);
  h5::set_attr(f, "world_size", m.world_size);
  h5::set_attr(f, "per_rank_batch", m.per_rank_batch);
  h5::set_attr(f, "micro_batches", m.micro_batches);
  h5::set_attr(f, "global_batch", m.global_batch);
  h5::set_attr(f, "config_digest", m.config_digest);
  h5::set_attr(f, "config", m.config);
  h5::set_attr(f, "wall_seconds", m.wall_seconds);
  h5::set_attr(f, "created_at", m.created_at.empty() ? now_iso() : m.created_at);
}

Meta read_meta_from(hid_t f, const std::string& path) {
  Meta m;
  m.format_version = h5::get_attr_int(f, "format_version", path);
  if (m.format_version != kFormatVersion)
    throw Error(path + " has checkpoint format version " + std::to_string(m.format_version) + "; this sdn reads " +
                    std::to_string(kFormatVersion),
                "resume with the sdn version that wrote it, or start a new run");
  m.code_version = h5::get_attr_string(f, "code_version", path);
  m.stage = h5::get_attr_string(f, "stage", path);
  m.step = h5::get_attr_int(f, "step", path);
  m.epoch = h5::get_attr_int(f, "epoch", path);
  m.loader_position = h5::get_attr_int(f, "loader_position", path);
  m.world_size = h5::get_attr_int(f, "world_size", path);
  m.per_rank_batch = h5::get_attr_int(f, "per_rank_batch", path);
  m.micro_batches = h5::get_attr_int(f, "micro_batches", path);
  m.global_batch = h5::get_attr_int(f, "global_batch", path);
  m.config_digest = h5::get_attr_string(f, "config_digest", path);
  m.config = h5::get_attr_strings(f, "config", path);
  m.wall_seconds = h5::get_attr_double(f, "wall_seconds", path);
  m.created_at = h5::get_attr_string(f, "created_at", path);
  return m;
}

// Dataset names in file order: the "names" attribute of /tensors lists them so order and set are explicit.
std::vector<std::string> tensor_names(hid_t f, const std::string& path) {
  if (!h5::exists(f, "/tensors")) throw Error(path + ": group /tensors is missing", "the file is not an sdn checkpoint");
  h5::Hid g(SDN_H5_CHECK(H5Gopen2(f, "/tensors", H5P_DEFAULT), path + ": /tensors"));
  return h5::get_attr_strings(g, "names", path);
}

torch::Tensor read_tensor(hid_t f, const std::string& name, const std::string& path, bool verify) {
  const std::string ds_name = "/tensors/" + name;
  auto ds = h5::open_dataset(f, ds_name, path);
  const std::string what = path + ":" + ds_name;
  auto d = h5::dims(ds);
  std::vector<int64_t> shape(d.begin(), d.end());
  auto t = torch::empty(shape, torch::TensorOptions().dtype(torch_type(ds, what)));
  if (t.numel() > 0) h5::read_all(ds, h5_type(t.scalar_type()), t.data_ptr(), what);
  if (verify) {
    auto stored = static_cast<std::uint32_t>(h5::get_attr_int(ds, "crc32", path));
    auto actual = crc32_of(t.data_ptr(), static_cast<size_t>(t.nbytes()));
    if (stored != actual)
      throw Error(what + ": checksum mismatch (stored " + std::to_string(stored) + ", computed " +
                      std::to_string(actual) + ")",
                  "the checkpoint is damaged; resume from an older one (sdn falls back automatically)");
  }
  return t;
}

}  // namespace

const char* phase_name(WritePhase p) {
  switch (p) {
    case WritePhase::kCreated: return "created";
    case WritePhase::kTensorsWritten: return "tensors";
    case WritePhase::kMetaWritten: return "meta";
    case WritePhase::kFlushed: return "flushed";
    case WritePhase::kRenamed: return "renamed";
  }
  return "?";
}

std::uint32_t crc32_of(const void* data, std::size_t bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  while (bytes > 0) {  // zlib takes uInt lengths
    uInt chunk = static_cast<uInt>(std::min<std::size_t>(bytes, 1u << 30));
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    bytes -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

void write_checkpoint(const std::string& path, const Checkpoint& c, const WriteHook& hook) {
  const std::string tmp = fs::temp_path_for(path);
  auto notify = [&](WritePhase p) {
    if (hook) hook(p);
  };
  try {
    {
      auto f = h5::create_truncate(tmp);
      // A write that fails (full disk) must give its space back BEFORE HDF5 closes the file: closing flushes
      // metadata, and if that fails too HDF5 1.10 keeps a half-closed file that crashes the process at exit
      // (a segfault instead of exit code 1). The temporary is deleted below anyway.
      struct ReleaseOnFailure {
        const std::string& path;
        int uncaught = std::uncaught_exceptions();
        ~ReleaseOnFailure() {
          if (std::uncaught_exceptions() > uncaught) (void)::truncate(path.c_str(), 0);
        }
      } release_on_failure{tmp};
      notify(WritePhase::kCreated);
      auto g = h5::create_group(f, "/tensors");
      std::vector<std::string> names;
      for (const auto& [name, tensor] : c.tensors) {
        auto t = tensor.detach().to(torch::kCPU).contiguous();
        std::vector<hsize_t> d(t.sizes().begin(), t.sizes().end());
        auto ds = h5::create_dataset(f, "/tensors/" + name, h5_type(t.scalar_type()), d);
        if (t.numel() > 0) h5::write_all(ds, h5_type(t.scalar_type()), t.data_ptr(), tmp + ": " + name);
        h5::set_attr(ds, "crc32", static_cast<std::int64_t>(crc32_of(t.data_ptr(), static_cast<size_t>(t.nbytes()))));
        names.push_back(name);
      }
      h5::set_attr(g, "names", names);
      notify(WritePhase::kTensorsWritten);
      write_meta(f, c.meta);
      notify(WritePhase::kMetaWritten);
      h5::flush(f, tmp);
    }  // closed here: the rename below must only ever see a complete file
    notify(WritePhase::kFlushed);
    fs::commit_rename(tmp, path);
    notify(WritePhase::kRenamed);
  } catch (const Error& e) {
    ::unlink(tmp.c_str());
    // The operator needs the checkpoint's name and the way out first; the library's detail follows.
    throw Error("cannot write checkpoint " + path + ": " + e.message(),
                "no checkpoint was replaced; free space on that file system or make " +
                    std::filesystem::path(path).parent_path().string() + " writable, then start the run again (it resumes "
                    "from the newest complete checkpoint)");
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

Meta read_meta(const std::string& path) {
  auto f = h5::open_read(path);
  return read_meta_from(f, path);
}

Checkpoint read_checkpoint(const std::string& path, bool verify) {
  auto f = h5::open_read(path);
  Checkpoint c;
  c.meta = read_meta_from(f, path);
  for (const auto& name : tensor_names(f, path)) c.tensors[name] = read_tensor(f, name, path, verify);
  return c;
}

std::vector<std::string> verify_checkpoint(const std::string& path) {
  std::vector<std::string> problems;
  try {
    auto f = h5::open_read(path);
    read_meta_from(f, path);
    for (const auto& name : tensor_names(f, path)) {
      try {
        read_tensor(f, name, path, true);
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
  return problems;
}

std::string describe(const Meta& m) {
  std::ostringstream os;
  os << "stage            " << m.stage << "\n"
     << "step             " << m.step << " (epoch " << m.epoch << ")\n"
     << "loader position  " << m.loader_position << " samples\n"
     << "world size       " << m.world_size << " ranks x " << m.per_rank_batch << " per rank x " << m.micro_batches
     << " micro-batches = global batch " << m.global_batch << "\n"
     << "wall time        " << m.wall_seconds << " s\n"
     << "created          " << m.created_at << "\n"
     << "code version     " << m.code_version << "\n"
     << "format version   " << m.format_version << "\n"
     << "config digest    " << m.config_digest << "\n";
  for (const auto& e : m.config) os << "  " << e << "\n";
  return os.str();
}

}  // namespace sdn::ckpt

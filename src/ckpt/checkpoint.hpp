// One checkpoint = one HDF5 file (docs/checkpoint-format.md): named tensors (model parameters and buffers,
// optimiser state, RNG states) as datasets with a CRC-32 each (zlib's, so h5py + zlib.crc32 can check them),
// and the run's metadata as root attributes. Written under a temporary name, fsynced, then renamed: a reader
// never sees a torn file under a checkpoint name.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sdn::ckpt {

constexpr std::int64_t kFormatVersion = 1;

struct Meta {
  std::int64_t format_version = kFormatVersion;
  std::string code_version;
  std::string stage;               // "semantic", ...
  std::int64_t step = 0;           // optimiser steps completed
  std::int64_t epoch = 0;
  std::int64_t loader_position = 0;  // samples consumed globally
  std::int64_t world_size = 1;
  std::int64_t per_rank_batch = 1;
  std::int64_t micro_batches = 1;
  std::int64_t global_batch = 1;
  std::string config_digest;       // digest of the training-relevant config entries
  std::vector<std::string> config; // those entries, "key = value", sorted
  double wall_seconds = 0;         // training wall time spent so far, all chunks
  std::string created_at;          // ISO-8601 UTC
};

// The phases of a write, for fault-injection tests (a hook may kill the process at any of them).
enum class WritePhase { kCreated, kTensorsWritten, kMetaWritten, kFlushed, kRenamed };
const char* phase_name(WritePhase phase);
using WriteHook = std::function<void(WritePhase)>;

struct Checkpoint {
  Meta meta;
  std::map<std::string, torch::Tensor> tensors;  // "model/encoder.conv1.weight", "optim/sgd/0/momentum", ...
};

// Writes `c` to `path` atomically. Tensors are copied to contiguous CPU memory first. Throws Error naming the
// path (unwritable directory, full disk); the previous file under `path`, if any, is untouched on failure.
void write_checkpoint(const std::string& path, const Checkpoint& c, const WriteHook& hook = {});

// Reads metadata only (cheap: for inspect, status, resume decisions).
Meta read_meta(const std::string& path);

// Reads everything; with `verify`, every dataset's CRC must match (Error naming the dataset otherwise).
Checkpoint read_checkpoint(const std::string& path, bool verify = true);

// Checks every dataset's CRC and the metadata; returns the problems found (empty = good). Never throws for a
// damaged file: an unreadable file is reported as a problem.
std::vector<std::string> verify_checkpoint(const std::string& path);

// CRC-32 (zlib polynomial) of a byte range, as zlib.crc32 computes it.
std::uint32_t crc32_of(const void* data, std::size_t bytes);

// Human-readable metadata (for `sdn ckpt inspect`).
std::string describe(const Meta& m);

}  // namespace sdn::ckpt

// Implements checkpoint contents and resumption (see run_checkpoint.hpp).
#include "train/run_checkpoint.hpp"

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "dist/collectives.hpp"
#include "train/train_state.hpp"

namespace sdn::train {

ckpt::Checkpoint make_checkpoint(Stage& stage, const TrainConfig& config, const std::vector<std::string>& entries,
                                 const CheckpointFacts& f, std::map<std::string, torch::Tensor> rng) {
  ckpt::Checkpoint c;
  c.tensors = collect_state(stage);
  for (auto& [k, t] : rng) c.tensors[k] = std::move(t);
  c.meta.code_version = f.code_version;
  c.meta.stage = stage.name();
  c.meta.step = f.step;
  c.meta.epoch = f.epoch;
  c.meta.loader_position = f.loader_position;
  c.meta.world_size = f.world_size;
  c.meta.per_rank_batch = config.train.per_rank_batch;
  c.meta.micro_batches = f.micro_batches;
  c.meta.global_batch = config.train.global_batch;
  c.meta.config = entries;
  c.meta.config_digest = ckpt::config_digest(entries);
  c.meta.wall_seconds = f.wall_seconds;
  return c;
}

std::map<std::string, torch::Tensor> gather_rng(const dist::Communicator& comm, torch::Device device) {
  // Serialise this rank's generators into one byte tensor of a fixed layout: [cpu state | cuda state].
  auto mine = rng_states(comm.rank(), device);
  std::vector<std::string> kinds;
  std::vector<torch::Tensor> parts;
  for (auto& [key, t] : mine) {
    kinds.push_back(key.substr(0, key.rfind('/') + 1));  // "rng/cpu/"
    parts.push_back(t.to(torch::kCPU).contiguous().view(torch::kByte).flatten());
  }
  std::vector<std::int64_t> sizes;
  for (auto& p : parts) sizes.push_back(p.numel());
  auto all = dist::gather_bytes(comm, torch::cat(parts));
  std::map<std::string, torch::Tensor> out;
  for (size_t r = 0; r < all.size(); ++r) {
    std::int64_t offset = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
      out[kinds[k] + std::to_string(r)] = all[r].narrow(0, offset, sizes[k]).clone();
      offset += sizes[k];
    }
  }
  return out;
}

ResumePoint resume_or_start(Stage& stage, const TrainConfig& config, const std::vector<std::string>& entries,
                            ckpt::Store& store, const dist::Communicator& comm, std::int64_t total) {
  const bool root = comm.rank() == 0;
  ResumePoint rp;
  if (root) {
    store.remove_stale_temporaries();
    if (auto found = store.newest_valid()) {
      for (const auto& s : found->skipped) spdlog::warn("skipping damaged checkpoint {}", s);
      rp.path = found->path;
    }
  }
  // Every rank reads the file itself (shared file system); rank 0 broadcasts only its choice.
  rp.path = dist::broadcast_string(comm, rp.path);
  const std::uint64_t seed = config.train.seed;
  const auto rank = static_cast<std::uint64_t>(comm.rank());
  if (rp.path.empty()) {
    torch::manual_seed(hash_key({seed, rank}));
    stage.enter_schedule(0, total);
  } else {
    auto c = ckpt::read_checkpoint(rp.path, /*verify=*/!root);  // rank 0 verified it already
    if (c.meta.stage != stage.name())
      throw UsageError(rp.path + " is a '" + c.meta.stage + "' checkpoint; this run trains '" + stage.name() + "'",
                       "use another --run-dir for another stage");
    auto diff = ckpt::config_differences(c.meta.config, entries);
    if (!diff.empty() && !config.ckpt.force_resume) {
      std::string msg = "the training configuration differs from the one that wrote " + rp.path + ":";
      for (const auto& d : diff) msg += "\n  - " + d;
      throw UsageError(msg, "restore those values, or pass --ckpt.force_resume to continue with the new ones");
    }
    rp.forced = diff;
    rp.step = c.meta.step;
    rp.loader_position = c.meta.loader_position;
    rp.wall_before = c.meta.wall_seconds;
    rp.saved_world = c.meta.world_size;
    stage.enter_schedule(rp.step, total);
    restore_state(stage, c.tensors, rp.path);
    // Elastic resume: the old per-rank generators do not map onto the new ranks; derive fresh ones.
    if (c.meta.world_size != comm.size() || !restore_rng_states(c.tensors, comm.rank(), stage.device()))
      torch::manual_seed(hash_key({seed, rank, static_cast<std::uint64_t>(rp.step)}));
  }
  // Identical weights everywhere, also when a rank's init or file read could have differed.
  for (auto& [name, module] : stage.modules()) dist::broadcast_from_root(comm, dist::state_tensors(*module));
  return rp;
}

}  // namespace sdn::train

// Implements select_device (see device_select.hpp).
#include "dist/device_select.hpp"

#include "core/error.hpp"

namespace sdn::dist {
namespace {

std::string describe(const GpuBindingFacts& f) {
  std::string s = "local rank " + std::to_string(f.local_rank) + " of " + std::to_string(f.local_size) +
                  ", CUDA reports " + std::to_string(f.n_visible) + " device(s), CUDA_VISIBLE_DEVICES=" +
                  (f.cuda_visible_devices ? "'" + *f.cuda_visible_devices + "'" : std::string("<unset>"));
  if (f.slurm_gpus) s += ", Slurm GPUs='" + *f.slurm_gpus + "'";
  return s + " " + where_am_i();
}

}  // namespace

std::vector<std::string> split_visible_devices(const std::string& value) {
  std::vector<std::string> out;
  if (value == "NoDevFiles") return out;  // what Slurm sets when the job step has no GPU
  std::string item;
  for (char c : value + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  return out;
}

int select_device(const GpuBindingFacts& f) {
  if (f.local_size < 1 || f.local_rank < 0 || f.local_rank >= f.local_size)
    throw Error("invalid local rank layout: " + describe(f));
  if (f.n_visible <= 0)
    throw Error("no CUDA device is visible to this rank: " + describe(f),
                "request GPUs from Slurm (--gpus-per-node=N or --gpus-per-task=1), or train on the CPU");
  if (f.n_visible == 1 && f.local_size > 1) {
    // Without CUDA_VISIBLE_DEVICES every local rank sees the node's only GPU: that is rule 4, not binding.
    if (!f.cuda_visible_devices)
      throw Error("more ranks on this node than visible GPUs: " + describe(f),
                  "start one task per GPU, or give every task one GPU (srun --gpus-per-task=1)");
    const auto& peers = f.local_cuda_visible_devices;
    if (static_cast<int>(peers.size()) == f.local_size) {
      for (int other = 0; other < f.local_size; ++other) {
        if (other == f.local_rank) continue;
        const auto mine = split_visible_devices(peers[f.local_rank]);
        const auto theirs = split_visible_devices(peers[other]);
        if (mine.size() == 1 && theirs.size() == 1 && mine[0] == theirs[0])
          throw Error("local ranks " + std::to_string(f.local_rank) + " and " + std::to_string(other) +
                          " are both bound to the single GPU '" + mine[0] + "': " + describe(f),
                      "give each task its own GPU (srun --gpus-per-task=1 or --gpu-bind=single:1), or start "
                      "fewer tasks per node");
      }
    }
    return 0;  // per-task binding: the one device this process sees
  }
  if (f.n_visible == 1) return 0;
  if (f.n_visible >= f.local_size) return f.local_rank;
  throw Error("more ranks on this node than visible GPUs: " + describe(f),
              "start one task per GPU (srun --ntasks-per-node=" + std::to_string(f.n_visible) +
                  ") or give every task one GPU (--gpus-per-task=1)");
}

}  // namespace sdn::dist

// Local rank -> CUDA device index: a pure function of values the CLI reads from the environment and the
// CUDA runtime, so every launcher layout (srun with per-task GPU binding, mpirun on a workstation, one
// process) is tested directly. Never reads the environment itself.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sdn::dist {

struct GpuBindingFacts {
  int local_rank = 0;   // rank on this node (Communicator::local_rank)
  int local_size = 1;   // ranks on this node
  int n_visible = 0;    // devices the CUDA runtime reports to this process (after CUDA_VISIBLE_DEVICES)
  std::optional<std::string> cuda_visible_devices;  // this process's CUDA_VISIBLE_DEVICES; nullopt = unset
  // CUDA_VISIBLE_DEVICES of every rank on this node, by local rank ("" for unset); empty = not gathered.
  std::vector<std::string> local_cuda_visible_devices;
  std::optional<std::string> slurm_gpus;  // SLURM_STEP_GPUS or SLURM_JOB_GPUS, only quoted in messages
};

// The device index this rank must use. Rules, in order:
//  1. no visible device -> sdn::Error (with the Slurm / CUDA_VISIBLE_DEVICES values and what to request);
//  2. exactly one visible device -> 0: Slurm's per-task binding (--gpus-per-task=1, --gpu-bind=single:1,
//     map_gpu) gives each task its own CUDA_VISIBLE_DEVICES; if gathered values show two local ranks bound
//     to the same single GPU, that is an error (NCCL refuses two ranks of one communicator on one GPU);
//  3. at least as many visible devices as local ranks -> local_rank (indices are already remapped by
//     CUDA_VISIBLE_DEVICES, so this also holds when Slurm exposes all node GPUs to every task);
//  4. otherwise (more ranks than GPUs) -> sdn::Error suggesting one task per GPU.
int select_device(const GpuBindingFacts& facts);

// Entries of a CUDA_VISIBLE_DEVICES value ("0,1", "GPU-uuid,...", "" -> none; "NoDevFiles" -> none).
std::vector<std::string> split_visible_devices(const std::string& value);

}  // namespace sdn::dist

// What a checkpoint of a training run holds beyond the metadata, and how it maps onto the live objects:
// module parameters and buffers ("<module>/<state_dict name>"), optimiser state per phase
// ("optim/<phase>/<param name>/<field>", keyed by parameter NAME so it survives any world size), and the
// random generators of every rank ("rng/cpu/<rank>", and "rng/cuda/<rank>" when the stage runs on a GPU;
// gathered to rank 0, which writes the file).
#pragma once

#include <map>
#include <string>

#include "ckpt/checkpoint.hpp"
#include "train/stage.hpp"

namespace sdn::train {

// Model and optimiser tensors of `stage` (identical on every rank after the gradient all-reduce).
std::map<std::string, torch::Tensor> collect_state(Stage& stage);

// Copies checkpoint tensors back into `stage` (modules, and with `optimiser` the phases' optimiser state);
// throws Error listing every missing or mis-shaped entry.
void restore_state(Stage& stage, const std::map<std::string, torch::Tensor>& tensors, const std::string& file,
                   bool optimiser = true);

// The CPU generator state as bytes, and back.
torch::Tensor cpu_rng_state();
void set_cpu_rng_state(const torch::Tensor& state);

// This rank's generators: "rng/cpu/<rank>", plus "rng/cuda/<rank>" (the generator of `device`) on CUDA.
std::map<std::string, torch::Tensor> rng_states(int rank, torch::Device device);
// Restores this rank's generators from `tensors`; false (and nothing changed) if an entry is missing.
bool restore_rng_states(const std::map<std::string, torch::Tensor>& tensors, int rank, torch::Device device);

}  // namespace sdn::train

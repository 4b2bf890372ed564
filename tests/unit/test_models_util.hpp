// Helpers shared by the models tests: model building, buffer perturbation, bit-equality of states, temporary
// files that clean up after themselves, and the Python (Debian PyTorch) availability probe.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "models/segmentation_model.hpp"
#include "models/state_dict.hpp"

namespace sdn_test {

inline sdn::models::SegmentationModel build_model(const std::string& arch, std::uint64_t seed, int64_t classes = 14) {
  sdn::models::SemanticModelOptions o;
  o.arch = arch;
  o.seed = seed;
  o.num_classes = classes;
  return sdn::models::build_semantic_model(o);
}

// Gives the buffers non-default values (as after training) so round trips check them too.
inline void perturb_buffers(torch::nn::Module& m, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& b : m.buffers()) {
    if (b.is_floating_point())
      b.uniform_(0.5, 1.5);
    else
      b.fill_(seed * 1000 + 7);
  }
}

inline void expect_bit_equal(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto x = sdn::models::state_dict(a), y = sdn::models::state_dict(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].first, y[i].first);
    EXPECT_TRUE(torch::equal(x[i].second, y[i].second)) << x[i].first;
  }
}

inline std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "sdn_models_" + std::to_string(getpid()) + "_" + name;
}

// Removes the test's files however the test ends.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::filesystem::remove(p);
  }
};

inline std::string source_dir() {
  const char* s = std::getenv("SDN_SOURCE_DIR");
  return s ? s : ".";
}

inline bool python_has_torch() {
  static const bool has = std::system("/usr/bin/python3 -c 'import torch, h5py' >/dev/null 2>&1") == 0;
  return has;
}

}  // namespace sdn_test

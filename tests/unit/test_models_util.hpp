// Helpers shared by the models tests: model building, buffer perturbation, bit-equality of states, temporary
// files that clean up after themselves, thread "ranks" with an in-process all-reduce, and the Python (Debian PyTorch) availability probe with its
// skip-or-fail rule (SDN_REQUIRE_PYTHON_TORCH).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <filesystem>
#include <string>
#include <vector>

#include "core/h5.hpp"
#include "models/segmentation_model.hpp"
#include "models/sync_batchnorm.hpp"
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

// The interpreter of the parity tests: Debian's /usr/bin/python3 (python3-torch, python3-h5py);
// SDN_TEST_PYTHON overrides it (e.g. a missing one, to check by hand that the tests skip or fail).
inline std::string python() {
  const char* p = std::getenv("SDN_TEST_PYTHON");
  return p ? p : "/usr/bin/python3";
}

inline bool python_has_torch() {
  static const bool has = std::system((python() + " -c 'import torch, h5py' >/dev/null 2>&1").c_str()) == 0;
  return has;
}

#ifndef SDN_REQUIRE_PYTHON_TESTS
#define SDN_REQUIRE_PYTHON_TESTS 0
#endif
// Python-parity tests skip without torch/h5py, or fail in builds configured with SDN_REQUIRE_PYTHON_TESTS=ON
// (CI installs python3-torch, so a parity test there must never vanish into a skip).
#define SDN_REQUIRE_PYTHON_TORCH()                                                                        \
  do {                                                                                                    \
    if (!sdn_test::python_has_torch()) {                                                                  \
      if (SDN_REQUIRE_PYTHON_TESTS) FAIL() << sdn_test::python() << " lacks torch or h5py (required here)"; \
      GTEST_SKIP() << sdn_test::python() << " lacks torch or h5py";                                       \
    }                                                                                                     \
  } while (0)

// Float32 tensors as HDF5 datasets, the exchange format of the Python-parity tests.
inline void write_h5_tensor(hid_t file, const std::string& name, const torch::Tensor& t, const std::string& path) {
  auto x = t.detach().to(torch::kFloat).contiguous();
  std::vector<hsize_t> dims(x.sizes().begin(), x.sizes().end());
  auto ds = sdn::h5::create_dataset(file, name, sdn::h5::native<float>(), dims);
  sdn::h5::write_all(ds, sdn::h5::native<float>(), x.data_ptr(), path);
}
inline torch::Tensor read_h5_tensor(hid_t file, const std::string& name, const std::string& path) {
  auto ds = sdn::h5::open_dataset(file, name, path);
  auto d = sdn::h5::dims(ds);
  auto t = torch::empty(std::vector<int64_t>(d.begin(), d.end()), torch::kFloat);
  sdn::h5::read_all(ds, sdn::h5::native<float>(), t.data_ptr(), path + ": " + name);
  return t;
}

// The parity tolerance: |c++ - python| <= 1e-4 (1 + max |python|), shapes equal.
inline void expect_close_to_python(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double scale = 1.0 + want.abs().max().item<double>();
  const double err = (got - want).abs().max().item<double>();
  EXPECT_LE(err, 1e-4 * scale) << what << ": max |diff| " << err << ", max |python| " << scale - 1.0;
}

// An all-reduce (sum) among `ranks` threads of one process.
class ThreadAllReduce {
 public:
  explicit ThreadAllReduce(int ranks) : ranks_(ranks) {}
  sdn::models::CrossRankSum sum_fn() {
    return [this](torch::Tensor& t) { sum(t); };
  }
  int calls() const { return calls_; }

 private:
  void sum(torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mu_);
    const long generation = generation_;
    acc_ = arrived_ == 0 ? t.clone() : acc_ + t;
    if (++arrived_ == ranks_) {
      result_ = acc_;
      arrived_ = 0;
      ++generation_;
      ++calls_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
    t.copy_(result_);
  }

  int ranks_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  long generation_ = 0;
  int calls_ = 0;
  torch::Tensor acc_, result_;
};

// Runs fn(rank) on `ranks` threads and rethrows the first failure.
template <class Fn>
void run_ranks(int ranks, Fn fn) {
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      try {
        fn(r);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace sdn_test

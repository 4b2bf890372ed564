// The C++ models compute what the plain-PyTorch reference (bench/semantic_reference.py, the original module
// definitions) computes with the same weights: eval-mode log-probabilities at 1/8 (main and deep supervision)
// and the upsampled probabilities of inference. This checks the architecture's arithmetic (dilations,
// paddings, pooling pyramid, DRN blocks, fixed up-sampling), not only its names. Skipped without python
// torch/h5py (failed instead in SDN_REQUIRE_PYTHON_TESTS builds). Tolerance: |c++ - python| <= 1e-4 (1 + max |python|).
#include <gtest/gtest.h>

#include "core/h5.hpp"
#include "models/weights_io.hpp"
#include "test_models_util.hpp"

namespace {

namespace h5 = sdn::h5;
using sdn_test::temp_file;
using sdn_test::TempFiles;

using sdn_test::expect_close_to_python;
using sdn_test::read_h5_tensor;

void write_input(const std::string& path, const torch::Tensor& x) {
  auto file = h5::create_truncate(path);
  sdn_test::write_h5_tensor(file, "x", x, path);
}

void compare_with_reference(const std::string& arch, std::vector<int64_t> input, std::array<int64_t, 2> size) {
  SDN_REQUIRE_PYTHON_TORCH();
  auto model = sdn_test::build_model(arch, 21);
  {
    // Trained-looking BatchNorm statistics, so eval-mode normalisation is really exercised.
    torch::manual_seed(22);
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_buffers()) {
      if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0.0, 0.1);
      if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
    }
  }
  model->eval();
  torch::manual_seed(23);
  auto x = torch::randn(input);
  TempFiles tmp{{temp_file("w.h5"), temp_file("x.h5"), temp_file("y.h5")}};
  sdn::models::export_weights(*model, arch, tmp.paths[0]);
  write_input(tmp.paths[1], x);
  const std::string cmd = sdn_test::python() + " " + sdn_test::source_dir() + "/bench/semantic_reference.py forward " +
                          arch + " --weights " + tmp.paths[0] + " --input " + tmp.paths[1] + " --output " +
                          tmp.paths[2] + " --size " + std::to_string(size[0]) + " " + std::to_string(size[1]);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  torch::NoGradGuard no_grad;
  auto out = model->forward_train(x);
  auto probs = model->forward_infer(x, size);
  auto file = h5::open_read(tmp.paths[2]);
  expect_close_to_python(out.main, read_h5_tensor(file, "main", tmp.paths[2]), arch + " main log-probabilities");
  if (model->has_deepsup())
    expect_close_to_python(out.deepsup, read_h5_tensor(file, "deepsup", tmp.paths[2]), arch + " deep-supervision");
  expect_close_to_python(probs, read_h5_tensor(file, "probs", tmp.paths[2]), arch + " inference probabilities");
}

}  // namespace

TEST(PythonReference, DrnD22Agrees) { compare_with_reference("drn_d_22", {2, 3, 32, 40}, {29, 37}); }

TEST(PythonReference, ResnetPpmDeepsupAgrees) {
  compare_with_reference("resnet50dilated8_ppm_deepsup", {1, 3, 48, 64}, {45, 61});
}

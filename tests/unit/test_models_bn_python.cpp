// Parity with Python PyTorch (Debian python3-torch) of the normalisation layers and the encoder start:
// - the original-kind SyncBatchNorm2d over k training steps equals the Python transcription of the original
//   SynchronizedBatchNorm2d (bench/semantic_reference.py bnstats): outputs, input gradients, all buffers,
//   eval output; on one rank and split over two thread-ranks;
// - FrozenBatchNorm2d equals nn.BatchNorm2d(eps=1e-3) in eval mode, the tracked InstanceNorm2d equals
//   nn.InstanceNorm2d(track_running_stats=True) in training (2 steps) and eval; names equal Python's;
// - model.encoder_weights: a seeded torch deep-stem ResNet-50 with fc, saved like resnet50-imagenet.pth and
//   converted by scripts/pth_to_h5.py, lands in encoder.* bit for bit; the decoder and the bookkeeping
//   buffers keep their init.
// Tolerance: |c++ - python| <= 1e-5 + 1e-4 |python| (float32; the original sums x and x^2 in float32).
#include <gtest/gtest.h>

#include "core/h5.hpp"
#include "models/encoder_weights.hpp"
#include "models/norm.hpp"
#include "models/sync_batchnorm.hpp"
#include "test_models_util.hpp"

namespace {

namespace h5 = sdn::h5;
namespace m = sdn::models;
using sdn_test::temp_file;
using sdn_test::TempFiles;
using sdn_test::ThreadAllReduce;

void put(hid_t file, const std::string& name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat).contiguous();
  std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
  auto ds = h5::create_dataset(file, name, h5::native<float>(), dims);
  h5::write_all(ds, h5::native<float>(), c.data_ptr(), name);
}

torch::Tensor get(hid_t file, const std::string& name) {
  auto ds = h5::open_dataset(file, name, "python output");
  auto d = h5::dims(ds);
  auto t = torch::empty(std::vector<int64_t>(d.begin(), d.end()), torch::kFloat);
  h5::read_all(ds, h5::native<float>(), t.data_ptr(), name);
  return t;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double err = (got.detach().to(torch::kFloat) - want).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(got.detach().to(torch::kFloat), want, 1e-4, 1e-5)) << what << ": max |diff| " << err;
}

void run(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

std::string script(const std::string& rel) { return sdn_test::python() + " " + sdn_test::source_dir() + "/" + rel; }

// k steps of the original BatchNorm on `ranks` thread-ranks (1 or 2), compared with the Python transcription.
void check_original_bn(int ranks) {
  SDN_REQUIRE_PYTHON_TORCH();
  const int64_t c = 4, k = 5;
  torch::manual_seed(31);
  auto weight = torch::rand({c}) + 0.5, bias = torch::randn({c});
  std::vector<torch::Tensor> xs;
  for (int64_t i = 0; i < k; ++i) xs.push_back(torch::randn({3, c, 4, 5}) * (1.0 + i) + 0.5 * i);
  auto x_eval = torch::randn({2, c, 4, 5});
  TempFiles tmp{{temp_file("bn_in.h5"), temp_file("bn_out.h5")}};
  {
    auto f = h5::create_truncate(tmp.paths[0]);
    put(f, "weight", weight);
    put(f, "bias", bias);
    for (int64_t i = 0; i < k; ++i) put(f, "x" + std::to_string(i), xs[i]);
    put(f, "x_eval", x_eval);
  }
  run(script("bench/semantic_reference.py") + " bnstats --input " + tmp.paths[0] + " --output " + tmp.paths[1]);
  auto out = h5::open_read(tmp.paths[1]);

  ThreadAllReduce comm(ranks);
  std::vector<m::SyncBatchNorm2d> bn;
  for (int r = 0; r < ranks; ++r) {
    bn.push_back(m::original_sync_bn(c));
    torch::NoGradGuard g;
    bn[r]->weight.copy_(weight);
    bn[r]->bias.copy_(bias);
    if (ranks > 1) m::set_cross_rank_sum(*bn[r], comm.sum_fn());
  }
  for (int64_t i = 0; i < k; ++i) {
    SCOPED_TRACE("step " + std::to_string(i) + ", " + std::to_string(ranks) + " rank(s)");
    std::vector<torch::Tensor> y(ranks), dx(ranks);
    sdn_test::run_ranks(ranks, [&](int r) {
      const int64_t begin = ranks == 1 ? 0 : (r == 0 ? 0 : 2), end = ranks == 1 ? 3 : (r == 0 ? 2 : 3);
      auto x = xs[i].slice(0, begin, end).clone().requires_grad_(true);
      y[r] = bn[r](x);
      (y[r] * y[r]).sum().backward();
      dx[r] = x.grad();
    });
    expect_close(torch::cat(y), get(out, "y" + std::to_string(i)), "output");
    expect_close(torch::cat(dx), get(out, "dx" + std::to_string(i)), "input gradient");
  }
  for (int r = 0; r < ranks; ++r) {
    for (auto& [name, t] : m::state_dict(*bn[r])) {
      if (name == "weight" || name == "bias") continue;
      if (name == "num_batches_tracked") {
        EXPECT_EQ(t.item<int64_t>(), 0);
        continue;
      }
      expect_close(t, get(out, name), "rank " + std::to_string(r) + " " + name);
    }
    bn[r]->eval();
    torch::NoGradGuard g;
    expect_close(bn[r](x_eval), get(out, "y_eval"), "eval output");
  }
}

}  // namespace

TEST(PythonBatchNorm, OriginalStatisticsOverStepsOneRank) { check_original_bn(1); }

TEST(PythonBatchNorm, OriginalStatisticsOverStepsTwoRanks) { check_original_bn(2); }

TEST(PythonBatchNorm, FrozenAndInstanceNormMatchTorch) {
  SDN_REQUIRE_PYTHON_TORCH();
  const int64_t c = 3;
  torch::manual_seed(33);
  m::FrozenBatchNorm2d frozen(c);
  {
    torch::NoGradGuard g;
    frozen->weight.uniform_(0.5, 1.5);
    frozen->bias.normal_();
    frozen->running_mean.normal_();
    frozen->running_var.uniform_(0.5, 1.5);
  }
  auto x0 = torch::randn({2, c, 5, 4}) * 2 + 1, x1 = torch::randn({2, c, 5, 4}) - 1, x_eval = torch::randn({1, c, 5, 4});
  TempFiles tmp{{temp_file("norm_in.h5"), temp_file("norm_out.h5")}};
  {
    auto f = h5::create_truncate(tmp.paths[0]);
    put(f, "x0", x0);
    put(f, "x1", x1);
    put(f, "x_eval", x_eval);
    put(f, "eps", torch::tensor(frozen->options.eps()));
    for (auto& [k, t] : m::state_dict(*frozen))
      if (t.is_floating_point()) put(f, "frozen." + k, t);
  }
  run(script("tests/unit/python/parity.py") + " norm " + tmp.paths[0] + " " + tmp.paths[1]);
  auto out = h5::open_read(tmp.paths[1]);
  frozen->train();  // frozen: train mode is eval mode
  expect_close(frozen(x0), get(out, "frozen.y"), "FrozenBatchNorm2d");
  auto names = [](const torch::nn::Module& mod) {
    std::string s;
    for (auto& [k, t] : m::state_dict(mod)) s += (s.empty() ? "" : " ") + k;
    return s;
  };
  EXPECT_EQ(names(*frozen), h5::get_attr_string(out, "frozen.names", tmp.paths[1]));

  auto inorm = m::instance_norm_tracked(c);
  EXPECT_EQ(names(*inorm), h5::get_attr_string(out, "instance.names", tmp.paths[1]));
  inorm->train();
  expect_close(inorm(x0), get(out, "instance.y0"), "InstanceNorm2d step 1");
  expect_close(inorm(x1), get(out, "instance.y1"), "InstanceNorm2d step 2");
  expect_close(inorm->running_mean, get(out, "instance.running_mean"), "InstanceNorm2d running_mean");
  expect_close(inorm->running_var, get(out, "instance.running_var"), "InstanceNorm2d running_var");
  inorm->eval();
  expect_close(inorm(x_eval), get(out, "instance.y_eval"), "InstanceNorm2d eval");
}

TEST(PythonEncoderWeights, ImagenetResnetLandsInTheEncoder) {
  SDN_REQUIRE_PYTHON_TORCH();
  TempFiles tmp{{temp_file("imagenet.pth"), temp_file("imagenet.h5")}};
  run(script("tests/unit/python/parity.py") + " imagenet-resnet " + tmp.paths[0]);
  run(script("scripts/pth_to_h5.py") + " --state " + tmp.paths[0] + " --out " + tmp.paths[1] + " >/dev/null");
  auto model = sdn_test::build_model("resnet50dilated8_ppm_deepsup", 304);
  auto fresh = sdn_test::build_model("resnet50dilated8_ppm_deepsup", 304);
  auto report = m::import_encoder_weights(*model, "resnet50dilated8_ppm_deepsup", tmp.paths[1]);
  EXPECT_TRUE(report.clean()) << report.summary();
  EXPECT_EQ(report.loaded.size(), 55u + 55u * 5);  // 55 convs (weight), 55 BatchNorms (5 entries each)
  auto file = h5::open_read(tmp.paths[1]);
  auto init = m::state_dict(*fresh);
  size_t i = 0;
  for (auto& [key, t] : m::state_dict(*model)) {
    const auto& before = init[i++].second;
    const bool encoder = key.rfind("encoder.", 0) == 0;
    const bool bookkeeping = key.find("_tmp_running") != std::string::npos || key.find("_running_iter") != std::string::npos;
    if (!encoder || bookkeeping) {
      EXPECT_TRUE(torch::equal(t, before)) << key << " changed";
    } else if (t.is_floating_point()) {
      EXPECT_TRUE(torch::equal(t, get(file, key.substr(8)))) << key;
    } else {
      EXPECT_EQ(t.item<int64_t>(), 0) << key;  // num_batches_tracked added by pth_to_h5.py
    }
  }
}

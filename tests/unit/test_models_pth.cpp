// PyTorch round trips of weight files: export -> scripts/h5_to_pth.py -> scripts/pth_to_h5.py -> import is
// bit-exact, for one state_dict and for the original encoder/decoder file pair without num_batches_tracked
// (PyTorch 0.4.0 checkpoints); the ResNet-PPM model's export loads with strict=True into the Python modules
// that carry the original SynchronizedBatchNorm2d buffers; and every .pth layout pth_to_h5.py accepts (plain,
// {'state_dict'} with 'module.' keys, torch 0.4 without num_batches_tracked and with Parameters, the
// original's checkpoint without _tmp_running_*), written from a seeded Python module, loads strictly in C++
// and comes back to Python bit for bit. Skipped (or failed, SDN_REQUIRE_PYTHON_TESTS) without python torch.
#include <gtest/gtest.h>

#include "models/sync_batchnorm.hpp"
#include "models/weights_io.hpp"
#include "test_models_util.hpp"

namespace {

using sdn_test::temp_file;
using sdn_test::TempFiles;

void run(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// A small stand-in with the original checkpoint's two top-level parts, so the encoder/decoder file pair path
// of the scripts is exercised without moving 200 MB of ResNet weights through Python.
struct PairImpl : torch::nn::Module {
  PairImpl() {
    encoder = register_module("encoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)),
                                                               sdn::models::original_sync_bn(4)));
    decoder = register_module("decoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 5, 1)),
                                                               sdn::models::SyncBatchNorm2d(5)));
  }
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
};

}  // namespace

TEST(WeightsIo, PyTorchRoundTripOneStateDict) {
  SDN_REQUIRE_PYTHON_TORCH();
  auto a = sdn_test::build_model("drn_d_22", 5), b = sdn_test::build_model("drn_d_22", 6);
  sdn_test::perturb_buffers(*a, 4);
  TempFiles tmp{{temp_file("py_drn.h5"), temp_file("py_drn.pth"), temp_file("py_drn_back.h5")}};
  const auto &h5 = tmp.paths[0], &pth = tmp.paths[1], &back = tmp.paths[2];
  sdn::models::export_weights(*a, "drn_d_22", h5);
  const auto scripts = sdn_test::source_dir() + "/scripts/";
  run(sdn_test::python() + " " + scripts + "h5_to_pth.py --in " + h5 + " --out " + pth + " >/dev/null");
  run(sdn_test::python() + " " + scripts + "pth_to_h5.py --state " + pth + " --out " + back + " >/dev/null");
  sdn::models::import_weights(*b, "drn_d_22", back);
  sdn_test::expect_bit_equal(*a, *b);
}

TEST(WeightsIo, PyTorchRoundTripOriginalEncoderDecoderPair) {
  SDN_REQUIRE_PYTHON_TORCH();
  auto a = std::make_shared<PairImpl>(), b = std::make_shared<PairImpl>();
  sdn_test::perturb_buffers(*a, 9);
  TempFiles tmp{{temp_file("pair.h5"), temp_file("enc.pth"), temp_file("dec.pth"), temp_file("pair_back.h5")}};
  const auto &h5 = tmp.paths[0], &enc = tmp.paths[1], &dec = tmp.paths[2], &back = tmp.paths[3];
  // pth_to_h5.py recognises an encoder/decoder pair as the original model by its prefixes.
  const std::string name = "resnet50dilated8_ppm_deepsup";
  sdn::models::export_weights(*a, name, h5);
  const auto scripts = sdn_test::source_dir() + "/scripts/";
  // As the original 3D-SDN checkpoints under PyTorch 0.4.0: two files, no num_batches_tracked.
  run(sdn_test::python() + " " + scripts + "h5_to_pth.py --in " + h5 + " --out-encoder " + enc + " --out-decoder " + dec +
      " --no-num-batches-tracked >/dev/null");
  run(sdn_test::python() + " " + scripts + "pth_to_h5.py --encoder " + enc + " --decoder " + dec + " --out " + back +
      " >/dev/null");
  // num_batches_tracked comes back as 0; everything else must be identical.
  {
    torch::NoGradGuard no_grad;
    for (auto& [key, t] : sdn::models::state_dict(*a))
      if (key.find("num_batches_tracked") != std::string::npos) t.zero_();
  }
  sdn::models::import_weights(*b, name, back);
  sdn_test::expect_bit_equal(*a, *b);
}

TEST(WeightsIo, ResnetExportLoadsStrictlyIntoTheOriginalModules) {
  SDN_REQUIRE_PYTHON_TORCH();
  auto a = sdn_test::build_model("resnet50dilated8_ppm_deepsup", 8);
  sdn_test::perturb_buffers(*a, 5);
  TempFiles tmp{{temp_file("rn.h5"), temp_file("rn_enc.pth"), temp_file("rn_dec.pth")}};
  sdn::models::export_weights(*a, "resnet50dilated8_ppm_deepsup", tmp.paths[0]);
  const auto scripts = sdn_test::source_dir() + "/scripts/";
  run(sdn_test::python() + " " + scripts + "h5_to_pth.py --in " + tmp.paths[0] + " --out-encoder " + tmp.paths[1] +
      " --out-decoder " + tmp.paths[2] + " >/dev/null");
  run(sdn_test::python() + " " + sdn_test::source_dir() + "/bench/semantic_reference.py load-pth " +
      "resnet50dilated8_ppm_deepsup --encoder " + tmp.paths[1] + " --decoder " + tmp.paths[2] + " >/dev/null");
}

namespace {

// The C++ twin of parity.py's Tiny: conv + BatchNorm (torch kind, or the original's).
struct TinyImpl : torch::nn::Module {
  explicit TinyImpl(bool original) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    bn = register_module("bn", original ? sdn::models::original_sync_bn(4) : sdn::models::SyncBatchNorm2d(4));
  }
  torch::nn::Conv2d conv{nullptr};
  sdn::models::SyncBatchNorm2d bn{nullptr};
};

void check_variant(const std::string& kind) {
  SDN_REQUIRE_PYTHON_TORCH();
  const auto py = sdn_test::python() + " ";
  const auto parity = sdn_test::source_dir() + "/tests/unit/python/parity.py";
  const auto scripts = sdn_test::source_dir() + "/scripts/";
  TempFiles tmp{{temp_file(kind + ".pth"), temp_file(kind + ".h5"), temp_file(kind + "_back.h5"),
                 temp_file(kind + "_back.pth")}};
  run(py + parity + " variant make " + kind + " " + tmp.paths[0]);
  run(py + scripts + "pth_to_h5.py --state " + tmp.paths[0] + " --out " + tmp.paths[1] + " --model tiny >/dev/null");
  auto model = std::make_shared<TinyImpl>(kind == "original");
  sdn::models::import_weights(*model, "tiny", tmp.paths[1]);  // strict: every name and shape fits
  if (kind == "original") {
    // The checkpoint lacked _tmp_running_*: pth_to_h5.py restores them as running * _running_iter.
    EXPECT_TRUE(torch::equal(model->bn->tmp_running_mean, model->bn->running_mean * model->bn->running_iter));
    EXPECT_TRUE(torch::equal(model->bn->tmp_running_var, model->bn->running_var * model->bn->running_iter));
  }
  sdn::models::export_weights(*model, "tiny", tmp.paths[2]);
  run(py + scripts + "h5_to_pth.py --in " + tmp.paths[2] + " --out " + tmp.paths[3] + " >/dev/null");
  run(py + parity + " variant check " + kind + " " + tmp.paths[3]);
}

}  // namespace

TEST(PthToH5, PlainStateDict) { check_variant("plain"); }
TEST(PthToH5, CheckpointDictWithDataParallelPrefixes) { check_variant("checkpoint"); }
TEST(PthToH5, Torch04WithoutNumBatchesTrackedAndWithParameters) { check_variant("torch04"); }
TEST(PthToH5, OriginalSyncBnCheckpointWithoutTmpBuffers) { check_variant("original"); }

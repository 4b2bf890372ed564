// Weight files: export -> import restores every parameter and buffer bit for bit; a file of another shape or
// model is refused with every mismatch listed and the file named; and the PyTorch round trip
// export -> scripts/h5_to_pth.py -> scripts/pth_to_h5.py -> import is bit-exact (skipped when /usr/bin/python3
// lacks torch or h5py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "models/segmentation_model.hpp"
#include "models/state_dict.hpp"
#include "models/sync_batchnorm.hpp"
#include "models/weights_io.hpp"

namespace {

sdn::models::SegmentationModel build(const std::string& arch, std::uint64_t seed, int64_t classes = 14) {
  sdn::models::SemanticModelOptions o;
  o.arch = arch;
  o.seed = seed;
  o.num_classes = classes;
  return sdn::models::build_semantic_model(o);
}

// Gives the buffers non-default values (as after training) so the round trip checks them too.
void perturb_buffers(torch::nn::Module& m, int seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& b : m.buffers()) {
    if (b.is_floating_point())
      b.uniform_(0.5, 1.5);
    else
      b.fill_(seed * 1000 + 7);
  }
}

void expect_bit_equal(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto x = sdn::models::state_dict(a), y = sdn::models::state_dict(b);
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].first, y[i].first);
    EXPECT_TRUE(torch::equal(x[i].second, y[i].second)) << x[i].first;
  }
}

std::string temp_file(const std::string& name) {
  return ::testing::TempDir() + "sdn_weights_" + std::to_string(getpid()) + "_" + name;
}

std::string source_dir() {
  const char* s = std::getenv("SDN_SOURCE_DIR");
  return s ? s : ".";
}

bool python_has_torch() {
  static const bool has = std::system("/usr/bin/python3 -c 'import torch, h5py' >/dev/null 2>&1") == 0;
  return has;
}

void run(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }

// Removes the test's files however the test ends.
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::filesystem::remove(p);
  }
};

// A small stand-in with the original checkpoint's two top-level parts, so the encoder/decoder file pair path
// of the scripts is exercised without moving 200 MB of ResNet weights through Python.
struct PairImpl : torch::nn::Module {
  PairImpl() {
    encoder = register_module("encoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)),
                                                               sdn::models::SyncBatchNorm2d(4)));
    decoder = register_module("decoder", torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 5, 1)),
                                                               sdn::models::SyncBatchNorm2d(5)));
  }
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
};

}  // namespace

TEST(WeightsIo, ExportImportIsBitExact) {
  auto a = build("drn_d_22", 1), b = build("drn_d_22", 2);
  perturb_buffers(*a, 3);
  TempFiles tmp{{temp_file("drn.h5")}};
  const auto& path = tmp.paths[0];
  sdn::models::export_weights(*a, "drn_d_22", path);
  EXPECT_EQ(sdn::models::weights_model_name(path), "drn_d_22");
  sdn::models::import_weights(*b, "drn_d_22", path);
  expect_bit_equal(*a, *b);
}

TEST(WeightsIo, MismatchesAreAllReportedWithTheFile) {
  auto a = build("drn_d_22", 1);
  TempFiles tmp{{temp_file("drn14.h5")}};
  const auto& path = tmp.paths[0];
  sdn::models::export_weights(*a, "drn_d_22", path);

  auto nineteen = build("drn_d_22", 1, 19);
  try {
    sdn::models::import_weights(*nineteen, "drn_d_22", path);
    FAIL() << "19-class model accepted 14-class weights";
  } catch (const sdn::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("3 problems"), std::string::npos) << what;
    EXPECT_NE(what.find("wrong shape: seg.weight is [14,512,1,1] in the file, [19,512,1,1] in the model"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("seg.bias"), std::string::npos) << what;
    EXPECT_NE(what.find("up.weight"), std::string::npos) << what;
  }

  auto resnet = build("resnet50dilated8_ppm_deepsup", 1);
  try {
    sdn::models::import_weights(*resnet, "resnet50dilated8_ppm_deepsup", path);
    FAIL() << "ResNet model accepted DRN weights";
  } catch (const sdn::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the file holds 'drn_d_22'"), std::string::npos) << what;
    EXPECT_NE(what.find("missing: encoder.conv1.weight [64,3,3,3]"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected: base.0.0.weight"), std::string::npos) << what;
    // One line per missing or unexpected entry, plus the model line.
    EXPECT_NE(what.find("(" + std::to_string(370 + 153 + 1) + " problems)"), std::string::npos) << what.substr(0, 300);
  }
}

TEST(WeightsIo, NotAWeightsFile) {
  EXPECT_THROW(sdn::models::weights_model_name(temp_file("does_not_exist.h5")), sdn::Error);
}

TEST(WeightsIo, PyTorchRoundTripOneStateDict) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  auto a = build("drn_d_22", 5), b = build("drn_d_22", 6);
  perturb_buffers(*a, 4);
  TempFiles tmp{{temp_file("py_drn.h5"), temp_file("py_drn.pth"), temp_file("py_drn_back.h5")}};
  const auto &h5 = tmp.paths[0], &pth = tmp.paths[1], &back = tmp.paths[2];
  sdn::models::export_weights(*a, "drn_d_22", h5);
  const auto scripts = source_dir() + "/scripts/";
  // --syncbn-extras adds the original SynchronizedBatchNorm2d buffers; pth_to_h5.py must drop them again.
  run("/usr/bin/python3 " + scripts + "h5_to_pth.py --in " + h5 + " --out " + pth + " --syncbn-extras >/dev/null");
  run("/usr/bin/python3 " + scripts + "pth_to_h5.py --state " + pth + " --out " + back + " >/dev/null");
  sdn::models::import_weights(*b, "drn_d_22", back);
  expect_bit_equal(*a, *b);
}

TEST(WeightsIo, PyTorchRoundTripOriginalEncoderDecoderPair) {
  if (!python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  auto a = std::make_shared<PairImpl>(), b = std::make_shared<PairImpl>();
  perturb_buffers(*a, 9);
  TempFiles tmp{{temp_file("pair.h5"), temp_file("enc.pth"), temp_file("dec.pth"), temp_file("pair_back.h5")}};
  const auto &h5 = tmp.paths[0], &enc = tmp.paths[1], &dec = tmp.paths[2], &back = tmp.paths[3];
  // pth_to_h5.py recognises an encoder/decoder pair as the original model by its prefixes.
  const std::string name = "resnet50dilated8_ppm_deepsup";
  sdn::models::export_weights(*a, name, h5);
  const auto scripts = source_dir() + "/scripts/";
  // As the original 3D-SDN checkpoints under PyTorch 0.4.0: two files, no num_batches_tracked.
  run("/usr/bin/python3 " + scripts + "h5_to_pth.py --in " + h5 + " --out-encoder " + enc + " --out-decoder " + dec +
      " --no-num-batches-tracked >/dev/null");
  run("/usr/bin/python3 " + scripts + "pth_to_h5.py --encoder " + enc + " --decoder " + dec + " --out " + back +
      " >/dev/null");
  // num_batches_tracked comes back as 0; everything else must be identical.
  {
    torch::NoGradGuard no_grad;
    for (auto& [key, t] : sdn::models::state_dict(*a))
      if (key.find("num_batches_tracked") != std::string::npos) t.zero_();
  }
  sdn::models::import_weights(*b, name, back);
  expect_bit_equal(*a, *b);
}

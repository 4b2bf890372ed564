// Weight files: export -> import restores every parameter and buffer bit for bit, and a file of another shape
// or model is refused with every mismatch listed and the file named. (The PyTorch round trips through
// scripts/*.py are in test_models_pth.cpp.)
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "models/weights_io.hpp"
#include "test_models_util.hpp"

using sdn_test::build_model;
using sdn_test::temp_file;
using sdn_test::TempFiles;

TEST(WeightsIo, ExportImportIsBitExact) {
  auto a = build_model("drn_d_22", 1), b = build_model("drn_d_22", 2);
  sdn_test::perturb_buffers(*a, 3);
  TempFiles tmp{{temp_file("drn.h5")}};
  const auto& path = tmp.paths[0];
  sdn::models::export_weights(*a, "drn_d_22", path);
  EXPECT_EQ(sdn::models::weights_model_name(path), "drn_d_22");
  sdn::models::import_weights(*b, "drn_d_22", path);
  sdn_test::expect_bit_equal(*a, *b);
}

TEST(WeightsIo, MismatchesAreAllReportedWithTheFile) {
  auto a = build_model("drn_d_22", 1);
  TempFiles tmp{{temp_file("drn14.h5")}};
  const auto& path = tmp.paths[0];
  sdn::models::export_weights(*a, "drn_d_22", path);

  auto nineteen = build_model("drn_d_22", 1, 19);
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

  auto resnet = build_model("resnet50dilated8_ppm_deepsup", 1);
  try {
    sdn::models::import_weights(*resnet, "resnet50dilated8_ppm_deepsup", path);
    FAIL() << "ResNet model accepted DRN weights";
  } catch (const sdn::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the file holds 'drn_d_22'"), std::string::npos) << what;
    EXPECT_NE(what.find("missing: encoder.conv1.weight [64,3,3,3]"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected: base.0.0.weight"), std::string::npos) << what;
    // One line per missing (553) or unexpected (153) entry, plus the model line.
    EXPECT_NE(what.find("(707 problems)"), std::string::npos) << what.substr(0, 300);
  }
}

TEST(WeightsIo, NotAWeightsFile) {
  EXPECT_THROW(sdn::models::weights_model_name(temp_file("does_not_exist.h5")), sdn::Error);
}

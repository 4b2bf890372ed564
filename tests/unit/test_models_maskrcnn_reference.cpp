// The C++ Mask R-CNN computes what the plain-PyTorch transcription of the original modules
// (tests/python/maskrcnn_reference.py) computes with the same weights: P2..P6 of the FPN and the RPN logits and
// deltas on a 64 x 64 image (this checks Caffe strides, SAME padding, the top-down path, P6 and the RPN's NHWC
// flattening), the proposal layer (NMS) and both heads (pyramid RoIAlign) on 256 x 256, crop_and_resize against
// a loop-for-loop transcription of crop_and_resize.c, and loading a released-style .pth through
// scripts/pth_to_h5.py. Skipped when /usr/bin/python3 lacks torch or h5py.
// Tolerance: |c++ - python| <= 1e-4 (1 + max |python|).
#include <gtest/gtest.h>

#include "core/h5.hpp"
#include "models/maskrcnn/crop_and_resize.hpp"
#include "models/maskrcnn/frozen_batchnorm.hpp"
#include "models/maskrcnn/mask_rcnn.hpp"
#include "models/maskrcnn/roi_align.hpp"
#include "models/weights_io.hpp"
#include "test_models_util.hpp"

namespace {

namespace h5 = sdn::h5;
namespace mr = sdn::models::maskrcnn;
using sdn_test::temp_file;
using sdn_test::TempFiles;

using sdn_test::expect_close_to_python;
using sdn_test::read_h5_tensor;

void write_tensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& items) {
  auto file = h5::create_truncate(path);
  for (const auto& [name, t] : items) sdn_test::write_h5_tensor(file, name, t, path);
}

std::string reference() {
  return "/usr/bin/python3 " + sdn_test::source_dir() + "/tests/python/maskrcnn_reference.py ";
}

}  // namespace

TEST(PythonReference, MaskRcnnFpnAndRpnAgree) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  mr::MaskRcnnOptions o;
  o.image_max_dim = 64;
  mr::MaskRcnn model(o);
  {
    // Trained-looking BN statistics and affine values, so the frozen normalisation is really exercised.
    torch::manual_seed(22);
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_buffers()) {
      if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0.0, 0.1);
      if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 1.5);
    }
    for (auto& item : model->named_parameters())
      if (!item.value().requires_grad()) item.value().uniform_(0.5, 1.5);
  }
  torch::manual_seed(23);
  auto x = torch::randn({1, 3, 64, 64}) * 50;
  TempFiles tmp{{temp_file("mw.h5"), temp_file("mx.h5"), temp_file("my.h5")}};
  sdn::models::export_weights(*model, "maskrcnn", tmp.paths[0]);
  write_tensors(tmp.paths[1], {{"x", x}});
  const std::string cmd =
      reference() + "forward --weights " + tmp.paths[0] + " --input " + tmp.paths[1] + " --output " + tmp.paths[2];
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  torch::NoGradGuard no_grad;
  auto levels = model->fpn->forward(x);
  auto rpn = mr::rpn_over_levels(model->rpn, levels);
  auto file = h5::open_read(tmp.paths[2]);
  for (int k = 0; k < 5; ++k)
    expect_close_to_python(levels[k], read_h5_tensor(file, "p" + std::to_string(k + 2), tmp.paths[2]), "P" + std::to_string(k + 2));
  expect_close_to_python(rpn.logits, read_h5_tensor(file, "rpn_logits", tmp.paths[2]), "rpn logits");
  expect_close_to_python(rpn.deltas, read_h5_tensor(file, "rpn_bbox", tmp.paths[2]), "rpn deltas");
}

TEST(PythonReference, CropAndResizeAgreesWithTheOriginalLoop) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  torch::manual_seed(5);
  auto image = torch::randn({2, 3, 9, 13});
  // Boxes inside, across and outside the image, flipped and degenerate ones.
  auto boxes = torch::tensor({0.1f, 0.2f, 0.8f, 0.9f, -0.3f, 0.5f,  0.6f, 1.4f, 0.9f, 0.9f, 0.1f, 0.2f,
                              0.5f, 0.5f, 0.5f, 0.5f, 1.2f,  -0.5f, 1.5f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f})
                   .view({6, 4});
  auto ind = torch::tensor({0, 1, 1, 0, 1, 0}, torch::kLong);
  TempFiles tmp{{temp_file("cx.h5"), temp_file("cy.h5")}};
  write_tensors(tmp.paths[0], {{"image", image}, {"boxes", boxes}, {"box_ind", ind}, {"size", torch::tensor({7, 5})}});
  const std::string cmd = reference() + "crop --input " + tmp.paths[0] + " --output " + tmp.paths[1];
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto file = h5::open_read(tmp.paths[1]);
  expect_close_to_python(mr::crop_and_resize(image, boxes, ind, 7, 5), read_h5_tensor(file, "crops", tmp.paths[1]), "crops");
}

TEST(PythonReference, MaskRcnnPthLoadsThroughPthToH5) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  // A full-size state_dict as mask_rcnn_vkitti_0100.pth / mask_rcnn_coco.pth hold it (690 entries, no
  // num_batches_tracked), converted by scripts/pth_to_h5.py (which recognises the model by its keys) and
  // imported strictly.
  TempFiles tmp{{temp_file("mrcnn.pth"), temp_file("mrcnn.h5")}};
  const std::string make = reference() + "pth --out " + tmp.paths[0];
  ASSERT_EQ(std::system(make.c_str()), 0) << make;
  const std::string conv = "/usr/bin/python3 " + sdn_test::source_dir() + "/scripts/pth_to_h5.py --state " +
                           tmp.paths[0] + " --out " + tmp.paths[1] + " >/dev/null";
  ASSERT_EQ(std::system(conv.c_str()), 0) << conv;
  mr::MaskRcnn model(mr::MaskRcnnOptions{});
  sdn::models::import_weights(*model, "maskrcnn", tmp.paths[1]);
  int64_t i = 0;
  for (const auto& [name, t] : sdn::models::state_dict(*model)) {
    if (name.find("num_batches_tracked") != std::string::npos) {
      EXPECT_EQ(t.item<int64_t>(), 0) << name;
      continue;
    }
    const bool var = name.size() > 11 && name.substr(name.size() - 11) == "running_var";
    const auto want = static_cast<float>((var ? 1.0 : 0.0) + static_cast<double>(i) / 1000.0);  // as Python
    ASSERT_EQ(t.min().item<float>(), want) << name;
    ASSERT_EQ(t.max().item<float>(), want) << name;
    ++i;
  }
  EXPECT_EQ(i, 690);
}

TEST(PythonReference, MaskRcnnProposalsAndHeadsAgree) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  // 256 x 256 so that proposals spread over P2..P4; 24 proposals keep the mask head cheap.
  mr::MaskRcnnOptions o;
  o.image_max_dim = 256;
  o.post_nms_rois_inference = 24;
  mr::MaskRcnn model(o);
  torch::manual_seed(31);
  {
    // Trained-looking BN affine values keep the untrained activations in range (see the training test).
    torch::NoGradGuard no_grad;
    for (const auto& item : model->named_modules()) {
      auto* bn = dynamic_cast<mr::FrozenBatchNorm2dImpl*>(item.value().get());
      if (!bn) continue;
      bn->weight.uniform_(0.1, 0.3);
      bn->bias.uniform_(-0.1, 0.1);
      bn->running_var.uniform_(0.5, 1.5);
    }
    model->fpn->C1[1]->as<mr::FrozenBatchNorm2dImpl>()->weight.fill_(0.02);
    // Spread the RPN's deltas so that NMS has work to do; unsaturated scores, so that no two tie (the order of
    // tied scores is unspecified in the original and in the transcription).
    model->rpn->conv_bbox->weight.mul_(5);
    model->rpn->conv_class->weight.mul_(0.01);
  }
  auto x = torch::randn({1, 3, 256, 256}) * 50;
  // Boxes of 230, 115 and 26 px (P4, P3, P2) join the proposals in the heads.
  auto extra = torch::tensor({0.0f, 0.0f, 0.9f, 0.9f, 0.1f, 0.1f, 0.55f, 0.55f, 0.2f, 0.3f, 0.3f, 0.4f}).view({3, 4});
  TempFiles tmp{{temp_file("hw.h5"), temp_file("hx.h5"), temp_file("hy.h5")}};
  sdn::models::export_weights(*model, "maskrcnn", tmp.paths[0]);
  write_tensors(tmp.paths[1], {{"x", x}, {"extra_rois", extra}});
  const std::string cmd = reference() + "heads --count 24 --weights " + tmp.paths[0] + " --input " + tmp.paths[1] +
                          " --output " + tmp.paths[2];
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  torch::NoGradGuard no_grad;
  auto levels = model->fpn->forward(x);
  auto rpn = mr::rpn_over_levels(model->rpn, levels);
  auto rois = mr::proposal_layer(rpn.probs[0].select(1, 1), rpn.deltas[0], model->anchors(torch::kCPU), 24, o);
  auto file = h5::open_read(tmp.paths[2]);
  auto want_rois = read_h5_tensor(file, "rois", tmp.paths[2]);
  expect_close_to_python(rois, want_rois, "proposals");
  auto head_rois = torch::cat({rois, extra});
  auto levels_used = std::get<0>(at::_unique(mr::roi_levels(head_rois, 256)));
  EXPECT_EQ(levels_used.numel(), 3) << "the heads should crop from P2, P3 and P4";
  std::vector<torch::Tensor> p2to5(levels.begin(), levels.begin() + 4);
  auto ind = torch::zeros({head_rois.size(0)}, torch::kLong);
  auto cls = model->classifier->forward(p2to5, head_rois, ind);
  expect_close_to_python(cls.logits, read_h5_tensor(file, "class_logits", tmp.paths[2]), "classifier logits");
  expect_close_to_python(cls.deltas, read_h5_tensor(file, "class_deltas", tmp.paths[2]), "classifier deltas");
  expect_close_to_python(model->mask->forward(p2to5, head_rois, ind), read_h5_tensor(file, "masks", tmp.paths[2]), "masks");
}

// Mask R-CNN training and inference on a tiny configuration (64 x 64 square, few anchors and RoIs): the data
// helpers (vehicle instances, boxes, mini masks, resize/pad/mean), seeded RPN and RoI targets, a training
// forward with five finite losses, SGD steps on one synthetic image that lower the total loss, and
// detections in the documented format mapped back to the frame.
#include <gtest/gtest.h>

#include <cmath>

#include "models/init.hpp"
#include "models/maskrcnn/image_prep.hpp"
#include "models/maskrcnn/instances.hpp"
#include "models/maskrcnn/losses.hpp"
#include "models/maskrcnn/mask_rcnn.hpp"
#include "models/maskrcnn/targets.hpp"
#include "models/maskrcnn/training_sample.hpp"

namespace mr = sdn::models::maskrcnn;

namespace {

mr::MaskRcnnOptions tiny() {
  mr::MaskRcnnOptions o;
  o.image_min_dim = 0;
  o.image_max_dim = 64;
  o.resnet_layers = {3, 4, 6, 3};  // ResNet-50 keeps the test quick; the layout is the same
  o.rpn_anchor_scales = {8, 16, 32, 64, 128};
  o.rpn_train_anchors_per_image = 32;
  o.pre_nms_limit = 2000;  // every anchor: an untrained RPN still proposes boxes near the GT
  o.post_nms_rois_training = 200;
  o.post_nms_rois_inference = 30;
  o.train_rois_per_image = 12;     // 3 positives, 6 negatives
  o.detection_min_confidence = 0;  // 0 switches the confidence filter off, as in the original
  o.detection_max_instances = 10;
  o.seed = 7;
  return o;
}

// An 80 x 48 frame: a bright car (class 2) and a dark van (class 12) on grey, a truck (11) and a 40-pixel car.
struct Frame {
  int w = 80, h = 48;
  torch::Tensor rgb = torch::full({48, 80, 3}, 128, torch::kUInt8);
  std::vector<std::uint8_t> classes = std::vector<std::uint8_t>(80 * 48, 5);  // road
  std::vector<std::uint16_t> instance = std::vector<std::uint16_t>(80 * 48, 0);
  void paint(int y0, int x0, int y1, int x1, std::uint8_t cls, std::uint16_t id, int value) {
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        classes[y * w + x] = cls;
        instance[y * w + x] = id;
      }
    rgb.slice(0, y0, y1).slice(1, x0, x1).fill_(value);
  }
};

Frame synthetic_frame() {
  Frame f;
  f.paint(10, 8, 30, 38, 2, 3, 250);   // car, 600 px
  f.paint(20, 50, 44, 74, 12, 1, 10);  // van, 576 px
  f.paint(0, 40, 8, 48, 11, 5, 60);    // truck, dropped
  f.paint(40, 0, 45, 8, 2, 9, 200);    // car of 40 px, dropped
  return f;
}

// The original never trains from its fresh init (it starts from COCO weights): with identity BNs every residual
// block doubles the activation variance. Trained-looking frozen BN scales keep activations in range: the stem
// BN brings the 0..255-scale input to ~1 and each block's last BN damps its residual branch.
void trained_looking_batchnorms(mr::MaskRcnnImpl& model) {
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_modules()) {
    auto* bn = dynamic_cast<mr::FrozenBatchNorm2dImpl*>(item.value().get());
    if (!bn) continue;
    if (item.key() == "fpn.C1.1") bn->weight.fill_(0.02);
    if (item.key().size() > 4 && item.key().substr(item.key().size() - 4) == ".bn3") bn->weight.fill_(0.2);
    if (item.key().find("downsample.1") != std::string::npos) bn->weight.fill_(0.5);
  }
}

}  // namespace

TEST(MaskRcnnData, VehicleInstancesBoxesAndMiniMasks) {
  auto f = synthetic_frame();
  auto g = mr::extract_vehicle_instances(f.classes, f.instance, f.w, f.h, 50);
  ASSERT_EQ(g.class_ids.size(0), 2);
  EXPECT_EQ(g.class_ids[0].item<int64_t>(), 1);  // cars first
  EXPECT_EQ(g.class_ids[1].item<int64_t>(), 2);
  EXPECT_EQ(g.masks[0].sum().item<int64_t>(), 600);
  auto boxes = mr::extract_bboxes(g.masks);
  EXPECT_TRUE(torch::equal(boxes, torch::tensor({10, 8, 30, 38, 20, 50, 44, 74}, torch::kLong).view({2, 4})));
  // A 51-pixel instance is kept, a 50-pixel one is not ("> 50").
  Frame t;
  t.paint(0, 0, 3, 17, 2, 1, 0);     // 51
  t.paint(10, 0, 15, 10, 12, 2, 0);  // 50
  EXPECT_EQ(mr::extract_vehicle_instances(t.classes, t.instance, t.w, t.h, 50).class_ids.size(0), 1);
  // Mini masks: a rectangle fills its box; an L shape keeps its hole at 56 x 56.
  auto mini = mr::minimize_masks(g.masks, boxes, {56, 56});
  EXPECT_EQ(mini.sizes(), torch::IntArrayRef({2, 56, 56}));
  EXPECT_EQ(mini[0].sum().item<float>(), 56.0f * 56.0f);
  auto l = torch::zeros({1, 8, 8}, torch::kUInt8);
  l[0].slice(0, 0, 8).slice(1, 0, 4).fill_(1);
  l[0].slice(0, 4, 8).fill_(1);
  auto lm = mr::minimize_masks(l, mr::extract_bboxes(l), {56, 56});
  EXPECT_EQ(lm[0][5][50].item<float>(), 0.0f);
  EXPECT_EQ(lm[0][50][50].item<float>(), 1.0f);
  EXPECT_EQ(lm[0][5][5].item<float>(), 1.0f);
}

TEST(MaskRcnnData, ResizePadAndMean) {
  // vKITTI at the defaults: 1242 x 375 -> 1024 x 309, padded centred into 1024 x 1024.
  auto p = mr::plan_resize(375, 1242, mr::MaskRcnnOptions{});
  EXPECT_NEAR(p.scale, 1024.0 / 1242.0, 1e-12);
  EXPECT_EQ(p.resized_height, 309);
  EXPECT_EQ(p.resized_width, 1024);
  EXPECT_EQ(p.window.window, (std::array<int64_t, 4>{357, 0, 666, 1024}));
  // A small frame is scaled up to the long side when min_dim does not ask for more: 48 x 80 -> 38 x 64.
  auto o = tiny();
  auto q = mr::plan_resize(48, 80, o);
  EXPECT_EQ(q.resized_height, 38);
  EXPECT_EQ(q.window.window, (std::array<int64_t, 4>{13, 0, 51, 64}));
  auto f = synthetic_frame();
  auto img = mr::mold_image(f.rgb, q, o);
  ASSERT_EQ(img.sizes(), torch::IntArrayRef({3, 64, 64}));
  EXPECT_NEAR(img[0][0][0].item<float>(), -123.7f, 1e-4);           // padding is 0 - mean
  EXPECT_NEAR(img[2][30][2].item<float>(), 128.0f - 103.9f, 1e-3);  // grey road
  auto masks = mr::mold_masks(mr::extract_vehicle_instances(f.classes, f.instance, f.w, f.h).masks, q, o);
  EXPECT_EQ(masks.sizes(), torch::IntArrayRef({2, 64, 64}));
  EXPECT_EQ(masks.slice(1, 0, 13).sum().item<int64_t>(), 0);
}

TEST(MaskRcnnTargets, RpnTargetsAreSeededAndBalanced) {
  auto o = tiny();
  mr::MaskRcnn model(o);
  const auto& anchors = model->anchors(torch::kCPU);
  auto gt = torch::tensor({10.f, 8.f, 30.f, 38.f, 30.f, 40.f, 50.f, 60.f}).view({2, 4});
  auto ids = torch::tensor({1, 2}, torch::kLong);
  auto g1 = sdn::models::init::make_generator(11), g2 = sdn::models::init::make_generator(11);
  auto g3 = sdn::models::init::make_generator(12);
  auto a = mr::build_rpn_targets(anchors, ids, gt, o, g1), b = mr::build_rpn_targets(anchors, ids, gt, o, g2);
  auto c = mr::build_rpn_targets(anchors, ids, gt, o, g3);
  EXPECT_TRUE(torch::equal(a.match, b.match));
  EXPECT_FALSE(torch::equal(a.match, c.match));
  const int64_t pos = (a.match == 1).sum().item<int64_t>(), neg = (a.match == -1).sum().item<int64_t>();
  EXPECT_GE(pos, 2);  // each GT box has its best anchor
  EXPECT_LE(pos, 16);
  EXPECT_EQ(pos + neg, 32);
  // The positive deltas turn their anchors into their GT boxes.
  auto first = (a.match == 1).nonzero()[0][0].item<int64_t>();
  auto d = a.deltas[0] * torch::tensor({0.1f, 0.1f, 0.2f, 0.2f});
  auto box = anchors[first];
  const float h = (box[2] - box[0]).item<float>(), cy = (box[0] + box[2]).item<float>() / 2;
  const float gh = std::exp(d[2].item<float>()) * h, gcy = cy + d[0].item<float>() * h;
  const bool is_first = std::abs(gh - 20) < 1e-3 && std::abs(gcy - 20) < 1e-3;
  const bool is_second = std::abs(gh - 20) < 1e-3 && std::abs(gcy - 40) < 1e-3;
  EXPECT_TRUE(is_first || is_second) << gh << " " << gcy;
  EXPECT_EQ(a.deltas.slice(0, pos).abs().sum().item<float>(), 0.0f);
}

TEST(MaskRcnnTargets, DetectionTargetsRatioMasksAndSeed) {
  auto o = tiny();
  // GT box (0.25, 0.25, 0.75, 0.75) with a mini mask whose left half is set.
  auto gt = torch::tensor({0.25f, 0.25f, 0.75f, 0.75f}).view({1, 4});
  auto mini = torch::zeros({1, 56, 56});
  mini[0].slice(1, 0, 28).fill_(1);
  std::vector<float> p;
  for (int i = 0; i < 10; ++i) p.insert(p.end(), {0.25f, 0.25f, 0.75f, 0.75f + 0.001f * i});  // positives
  for (int i = 0; i < 20; ++i) p.insert(p.end(), {0.0f, 0.0f, 0.1f, 0.1f + 0.001f * i});      // negatives
  auto proposals = torch::tensor(p).view({30, 4});
  auto gen = sdn::models::init::make_generator(3);
  auto t = mr::detection_targets(proposals, torch::tensor({2}, torch::kLong), gt, mini, o, gen);
  EXPECT_EQ(t.positives, 3);         // int(12 * 0.33)
  ASSERT_EQ(t.rois.size(0), 3 + 6);  // int(3 / 0.33 - 3) negatives
  EXPECT_TRUE(torch::equal(t.class_ids, torch::tensor({2, 2, 2, 0, 0, 0, 0, 0, 0}, torch::kLong)));
  EXPECT_EQ(t.masks.sizes(), torch::IntArrayRef({9, 28, 28}));
  // A positive RoI equal to the GT box sees the mini mask's left half: 14 of 28 columns on, rows all alike.
  EXPECT_NEAR(t.masks[0].sum().item<float>(), 28.0f * 14.0f, 28.0f);
  EXPECT_EQ(t.masks[0][5][2].item<float>(), 1.0f);
  EXPECT_EQ(t.masks[0][5][25].item<float>(), 0.0f);
  EXPECT_EQ(t.masks.slice(0, 3).sum().item<float>(), 0.0f);
  EXPECT_LT(t.deltas.slice(0, 0, 3).abs().max().item<float>(), 0.1f);
  auto again = sdn::models::init::make_generator(3);
  EXPECT_TRUE(torch::equal(mr::detection_targets(proposals, torch::tensor({2}, torch::kLong), gt, mini, o, again).rois,
                           t.rois));
  // No positive proposal: empty targets.
  auto none = mr::detection_targets(proposals.slice(0, 10), torch::tensor({2}, torch::kLong), gt, mini, o, gen);
  EXPECT_EQ(none.rois.size(0), 0);
}

TEST(MaskRcnnLosses, HandValues) {
  // rpn_class: two non-neutral anchors with logits (0, 0): CE = log 2.
  auto match = torch::tensor({1, 0, -1}, torch::kLong);
  EXPECT_NEAR(mr::rpn_class_loss(match, torch::zeros({3, 2})).item<float>(), std::log(2.0f), 1e-6);
  // rpn_bbox: positive anchor 0 vs the first target row; |0.5| < 1 -> 0.5 * 0.25 averaged over 4 values.
  auto target = torch::zeros({4, 4});
  target[0][0] = 0.5f;
  EXPECT_NEAR(mr::rpn_bbox_loss(target, match, torch::zeros({3, 4})).item<float>(), 0.125f / 4, 1e-7);
  // Heads: the GT-class entries only.
  auto ids = torch::tensor({2, 0}, torch::kLong);
  auto pred = torch::zeros({2, 3, 4});
  pred[0][2][1] = 3.0f;  // |3| >= 1 -> 2.5
  pred[0][1][0] = 9.0f;  // another class: ignored
  EXPECT_NEAR(mr::mrcnn_bbox_loss(torch::zeros({2, 4}), ids, pred).item<float>(), 2.5f / 4, 1e-6);
  auto masks = torch::full({2, 3, 2, 2}, 0.5f);
  EXPECT_NEAR(mr::mrcnn_mask_loss(torch::ones({2, 2, 2}), ids, masks).item<float>(), std::log(2.0f), 1e-6);
  EXPECT_EQ(mr::mrcnn_class_loss(torch::zeros({0}, torch::kLong), torch::zeros({0, 3})).item<float>(), 0.0f);
}

TEST(MaskRcnnModel, TrainingForwardSgdAndDetections) {
  auto o = tiny();
  mr::MaskRcnn model(o);
  trained_looking_batchnorms(*model);
  auto f = synthetic_frame();
  auto gen = sdn::models::init::make_generator(5);
  auto s = mr::make_training_sample(f.rgb, f.classes, f.instance, /*flip=*/false, o, model->anchors(torch::kCPU), gen);
  ASSERT_EQ(s.gt.class_ids.size(0), 2);
  EXPECT_EQ(s.gt.masks.sizes(), torch::IntArrayRef({2, 56, 56}));
  auto images = s.image.unsqueeze(0);

  // Inference first: the untrained classifier's near-uniform scores still name cars and vans.
  auto dets = model->detect(images, {s.window});

  ASSERT_EQ(dets.size(), 1u);
  const auto& d = dets[0];
  const int64_t n = d.boxes.size(0);
  ASSERT_GT(n, 0);
  EXPECT_LE(n, o.detection_max_instances);
  EXPECT_EQ(d.boxes.sizes(), torch::IntArrayRef({n, 4}));
  EXPECT_EQ(d.masks.sizes(), torch::IntArrayRef({n, 28, 28}));
  EXPECT_GE(d.class_ids.min().item<int64_t>(), 1);
  EXPECT_LE(d.class_ids.max().item<int64_t>(), 2);
  EXPECT_TRUE(torch::equal(d.boxes, d.boxes.round()));
  EXPECT_GE(d.boxes.select(1, 0).min().item<float>(), 13.0f);  // clipped to the window (13, 0, 51, 64)
  EXPECT_LE(d.boxes.select(1, 2).max().item<float>(), 51.0f);
  for (int64_t i = 1; i < n; ++i) EXPECT_GE(d.scores[i - 1].item<float>(), d.scores[i].item<float>());
  auto frame = mr::unmold_detections(d, s.window);
  const int64_t m = frame.boxes.size(0);
  EXPECT_EQ(frame.masks.sizes(), torch::IntArrayRef({m, 48, 80}));
  EXPECT_EQ(frame.boxes.scalar_type(), torch::kInt);
  ASSERT_GT(m, 0);
  EXPECT_LE(frame.masks.max().item<int>(), 1);
  EXPECT_GT(frame.masks.sum().item<int64_t>(), 0);

  std::vector<torch::Tensor> params;
  for (const auto& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  auto bn_before = model->fpn->C1[1]->as<mr::FrozenBatchNorm2dImpl>()->weight.clone();
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.01).momentum(0.9));
  std::vector<double> totals;
  for (int step = 0; step < 6; ++step) {
    // The same seed each step: the sampled RoIs are fixed, so the loss is a function of the weights alone.
    std::vector<at::Generator> gens{sdn::models::init::make_generator(42)};
    auto losses = model->forward_train(images, {s.gt}, gens);
    for (const auto& t : losses.terms()) {
      ASSERT_EQ(t.dim(), 0);
      ASSERT_TRUE(std::isfinite(t.item<double>()));
    }
    if (step == 0) {
      EXPECT_GT(losses.mrcnn_class.item<double>(), 0.0);  // positives were found, the heads ran
      EXPECT_GT(losses.mrcnn_mask.item<double>(), 0.0);
    }
    auto total = losses.total();
    totals.push_back(total.item<double>());
    sgd.zero_grad();
    total.backward();
    torch::nn::utils::clip_grad_norm_(params, 5.0);
    sgd.step();
  }
  EXPECT_LT(totals.back(), totals.front()) << "totals " << totals.front() << " -> " << totals.back();
  EXPECT_TRUE(torch::equal(model->fpn->C1[1]->as<mr::FrozenBatchNorm2dImpl>()->weight, bn_before));
}

TEST(MaskRcnnModel, BatchedLossesAreTheMeanOfPerImageLosses) {
  auto o = tiny();
  mr::MaskRcnn model(o);
  trained_looking_batchnorms(*model);
  auto f = synthetic_frame();
  auto g0 = sdn::models::init::make_generator(1), g1 = sdn::models::init::make_generator(2);
  const auto& anchors = model->anchors(torch::kCPU);
  auto a = mr::make_training_sample(f.rgb, f.classes, f.instance, /*flip=*/false, o, anchors, g0);
  auto b = mr::make_training_sample(f.rgb, f.classes, f.instance, /*flip=*/true, o, anchors, g1);
  // The flip mirrors boxes about the square's centre column.
  EXPECT_EQ(b.gt.boxes[0][1].item<float>(), 64 - a.gt.boxes[0][3].item<float>());
  EXPECT_EQ(b.window.window, a.window.window);  // the window spans the full width
  torch::NoGradGuard no_grad;
  auto run = [&](const torch::Tensor& images, std::vector<mr::MaskRcnnGt> gt, std::vector<std::uint64_t> seeds) {
    std::vector<at::Generator> gens;
    for (auto s : seeds) gens.push_back(sdn::models::init::make_generator(s));
    return model->forward_train(images, gt, gens);
  };
  auto both = run(torch::stack({a.image, b.image}), {a.gt, b.gt}, {10, 11});
  auto one = run(a.image.unsqueeze(0), {a.gt}, {10}), two = run(b.image.unsqueeze(0), {b.gt}, {11});
  for (size_t k = 0; k < 5; ++k) {
    const double want = 0.5 * (one.terms()[k].item<double>() + two.terms()[k].item<double>());
    EXPECT_NEAR(both.terms()[k].item<double>(), want, 1e-4 * (1 + std::abs(want))) << mr::MaskRcnnLosses::names()[k];
  }
}

// The full configuration (1024 x 1024, 261,888 anchors, 6000 / 2000 proposals, 200 RoIs): minutes on a CPU, so
// disabled; run with --gtest_also_run_disabled_tests --gtest_filter='*FullSize*'.
TEST(MaskRcnnModel, DISABLED_FullSizeTrainingForwardAndDetect) {
  mr::MaskRcnnOptions o;
  o.detection_min_confidence = 0;
  mr::MaskRcnn model(o);
  trained_looking_batchnorms(*model);
  Frame f;
  f.w = 1242;
  f.h = 375;
  f.rgb = torch::full({375, 1242, 3}, 128, torch::kUInt8);
  f.classes.assign(1242 * 375, 5);
  f.instance.assign(1242 * 375, 0);
  f.paint(150, 300, 260, 520, 2, 1, 240);
  f.paint(120, 800, 300, 1000, 12, 2, 20);
  auto gen = sdn::models::init::make_generator(5);
  auto s = mr::make_training_sample(f.rgb, f.classes, f.instance, false, o, model->anchors(torch::kCPU), gen);
  ASSERT_EQ(s.gt.class_ids.size(0), 2);
  std::vector<at::Generator> gens{sdn::models::init::make_generator(1)};
  auto losses = model->forward_train(s.image.unsqueeze(0), {s.gt}, gens);
  for (const auto& t : losses.terms()) EXPECT_TRUE(std::isfinite(t.item<double>()));
  auto d = model->detect(s.image.unsqueeze(0), {s.window});
  EXPECT_LE(d[0].boxes.size(0), 100);
  auto frame = mr::unmold_detections(d[0], s.window);
  EXPECT_EQ(frame.masks.size(1), 375);
}

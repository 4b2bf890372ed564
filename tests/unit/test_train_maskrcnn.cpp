// The Mask R-CNN stage's pure parts: COCO-style AP on hand-made cases with known values (matching, 101-point
// interpolation, thresholds), box and mask IoU, and the staged schedule on a tiny model (schedule points,
// trainable sets per part with every BN frozen, the transfer part's 1e-2 group, the never-unfreeze quirk),
// plus the [maskrcnn] validation messages, and the cache of the vehicle frame list (used, and invalidated when
// the shards or the pixel threshold change).
#include <gtest/gtest.h>

#include <filesystem>

#include "data/pack.hpp"
#include "data/shard_set.hpp"
#include "data_read_util.hpp"

#include "train/stages/maskrcnn_metrics.hpp"
#include "train/stages/maskrcnn_options.hpp"
#include "train/stages/maskrcnn_stage.hpp"

using namespace sdn::train;

namespace {

DetectionRecord rec(double score, bool tp) { return {1, score, tp ? 1u : 0u, 0u}; }

TrainConfig tiny_config(MaskRcnnStageOptions o) {
  o.image_size = 64;
  o.resnet = 50;
  o.anchor_scales = {8, 16, 32, 64, 128};
  o.pre_nms_limit = 200;
  o.post_nms_rois_training = 50;
  o.post_nms_rois_inference = 20;
  o.train_rois_per_image = 12;
  o.rpn_train_anchors_per_image = 32;
  TrainConfig c;
  c.stage = "maskrcnn";
  c.stage_options = o;
  return c;
}

bool trainable(MaskRcnnStage& s, const std::string& name) {
  for (const auto& p : s.model()->named_parameters())
    if (p.key() == name) return p.value().requires_grad();
  ADD_FAILURE() << "no parameter " << name;
  return false;
}

}  // namespace

TEST(MaskRcnnAp, HandMadeCurve) {
  // 2 GT; detections by score: TP, FP, TP. Recall 0.5, 0.5, 1; interpolated precision 1, 2/3, 2/3.
  // Recall points 0..0.50 (51) take 1, 0.51..1 (50) take 2/3.
  std::vector<DetectionRecord> r = {rec(0.7, true), rec(0.9, true), rec(0.8, false)};  // order does not matter
  EXPECT_NEAR(average_precision(r, false, 0, 2), (51.0 + 50.0 * 2.0 / 3.0) / 101.0, 1e-12);
  EXPECT_DOUBLE_EQ(average_precision({rec(0.9, true), rec(0.5, true)}, false, 0, 2), 1.0);
  // Half the GT found, never wrong: precision 1 up to recall 0.5 (51 of 101 points).
  EXPECT_NEAR(average_precision({rec(0.9, true)}, false, 0, 2), 51.0 / 101.0, 1e-12);
  EXPECT_DOUBLE_EQ(average_precision({}, false, 0, 3), 0.0);
  EXPECT_DOUBLE_EQ(average_precision({rec(0.9, false)}, false, 0, 0), -1.0);  // no GT: undefined
  // The threshold bit and the mask/box choice pick the flags.
  DetectionRecord m{1, 0.9, 0u, 1u << 3};
  EXPECT_DOUBLE_EQ(average_precision({m}, true, 3, 1), 1.0);
  EXPECT_DOUBLE_EQ(average_precision({m}, true, 2, 1), 0.0);
  EXPECT_DOUBLE_EQ(average_precision({m}, false, 3, 1), 0.0);
}

TEST(MaskRcnnAp, GreedyMatchingPerThreshold) {
  // det0 (higher score) overlaps GT0 0.60 and GT1 0.72: it takes GT1 (the best) up to threshold 0.70.
  // det1 overlaps GT1 0.92 and GT0 0.53: at 0.50 it gets GT0; at 0.75..0.90, where det0 matched nothing,
  // GT1; at 0.95 nothing. A detection of another class never matches.
  auto iou = torch::tensor({0.60, 0.72, 0.53, 0.92, 0.99, 0.99}, torch::kDouble).view({3, 2});
  auto r = match_image({1, 1, 2}, {0.9, 0.8, 0.7}, {1, 1}, iou, torch::zeros({3, 2}, torch::kDouble));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].box_tp, 0b0000011111u);
  EXPECT_EQ(r[1].box_tp, 0b0111100001u);
  EXPECT_EQ(r[2].box_tp, 0u);
  EXPECT_EQ(r[0].mask_tp | r[1].mask_tp, 0u);
  EXPECT_DOUBLE_EQ(r[1].score, 0.8);
}

TEST(MaskRcnnAp, BoxAndMaskIou) {
  auto a = torch::tensor({0, 0, 10, 10}, torch::kInt).view({1, 4});
  auto b = torch::tensor({0, 5, 10, 15, 20, 20, 30, 30}, torch::kInt).view({2, 4});
  auto iou = box_iou(a, b);
  EXPECT_NEAR(iou[0][0].item<double>(), 50.0 / 150.0, 1e-12);
  EXPECT_EQ(iou[0][1].item<double>(), 0.0);
  auto ma = torch::zeros({1, 4, 4}, torch::kUInt8), mb = torch::zeros({1, 4, 4}, torch::kUInt8);
  ma[0].slice(0, 0, 2).fill_(1);  // 8 pixels
  mb[0].slice(1, 0, 1).fill_(1);  // 4 pixels, 2 shared
  EXPECT_NEAR(mask_iou(ma, mb)[0][0].item<double>(), 2.0 / 10.0, 1e-12);
}

TEST(MaskRcnnStageSchedule, PartsPointsAndTrainableSets) {
  MaskRcnnStageOptions o;  // the original's transfer, heads, 4+, all at epochs 10, 40, 70, 100
  auto c = tiny_config(o);
  ASSERT_TRUE(validate_maskrcnn(c).empty());
  MaskRcnnStage s(c, {});
  EXPECT_EQ(s.schedule_points(1000), (std::vector<std::int64_t>{100, 400, 700}));
  EXPECT_EQ(s.part_of(99, 1000), 0u);
  EXPECT_EQ(s.part_of(100, 1000), 1u);
  EXPECT_EQ(s.part_of(999, 1000), 3u);
  EXPECT_DOUBLE_EQ(s.lr(0, 0, 1000), 1e-5);
  EXPECT_DOUBLE_EQ(s.lr(0, 400, 1000), 5e-4);
  EXPECT_DOUBLE_EQ(s.lr(0, 700, 1000), 2e-4);

  s.enter_schedule(0, 1000);  // transfer: heads, the 6 new tensors at 1e-2
  ASSERT_EQ(s.phases().size(), 1u);
  auto& groups = s.phases()[0].optimizer->param_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params().size(), 6u);
  ASSERT_EQ(s.phases()[0].lr_scale.size(), 2u);
  EXPECT_NEAR(s.phases()[0].lr_scale[0] * 1e-5, 1e-2, 1e-15);
  EXPECT_TRUE(trainable(s, "rpn.conv_shared.weight"));
  EXPECT_TRUE(trainable(s, "classifier.conv1.weight"));
  EXPECT_TRUE(trainable(s, "mask.conv5.weight"));
  EXPECT_FALSE(trainable(s, "fpn.C4.0.conv1.weight"));
  EXPECT_FALSE(trainable(s, "classifier.bn1.weight"));  // frozen BN, even in the heads

  s.enter_schedule(400, 1000);  // 4+
  EXPECT_EQ(s.phases()[0].optimizer->param_groups().size(), 1u);
  EXPECT_TRUE(trainable(s, "fpn.C4.0.conv1.weight"));
  EXPECT_TRUE(trainable(s, "fpn.P2_conv1.weight"));
  EXPECT_FALSE(trainable(s, "fpn.C3.0.conv1.weight"));
  EXPECT_FALSE(trainable(s, "fpn.C4.0.bn1.weight"));

  s.enter_schedule(700, 1000);  // all, BN still frozen
  EXPECT_TRUE(trainable(s, "fpn.C1.0.weight"));
  EXPECT_FALSE(trainable(s, "fpn.C1.1.weight"));
  size_t n = 0;
  for (const auto& p : s.model()->parameters()) n += p.requires_grad();
  EXPECT_EQ(s.phases()[0].params.size(), n);

  o.never_unfreeze = true;  // the original's set_trainable: 'all' still trains the heads only
  MaskRcnnStage q(tiny_config(o), {});
  q.enter_schedule(700, 1000);
  EXPECT_FALSE(trainable(q, "fpn.C1.0.weight"));
  EXPECT_FALSE(trainable(q, "fpn.C4.0.conv1.weight"));
  EXPECT_TRUE(trainable(q, "mask.conv5.weight"));
}

TEST(MaskRcnnStageSchedule, ValidationNamesTheKeys) {
  MaskRcnnStageOptions o;
  o.part_lr = {"1e-5", "fast", "5e-4", "2e-4"};
  o.part_epochs = {10, 40, 30, 100};
  o.layers = {"transfer", "heads", "4+", "everything"};
  auto e = validate_maskrcnn(tiny_config(o));
  std::string all;
  for (const auto& x : e) all += x + "\n";
  EXPECT_NE(all.find("maskrcnn.part_lr: 'fast'"), std::string::npos) << all;
  EXPECT_NE(all.find("maskrcnn.part_epochs: must increase"), std::string::npos) << all;
  EXPECT_NE(all.find("'everything'"), std::string::npos) << all;
  o = {};
  o.part_lr = {"1e-3"};
  EXPECT_FALSE(validate_maskrcnn(tiny_config(o)).empty());  // one entry per part
  auto c = tiny_config({});
  stage_options<MaskRcnnStageOptions>(c).image_size = 100;  // not a multiple of 64
  EXPECT_FALSE(validate_maskrcnn(c).empty());
}

namespace {

// A packed synthetic train split of `frames` frames (every traffic slot filled, so most frames hold vehicles).
void make_shards(const std::string& root, int frames, int first_frame) {
  namespace fsys = std::filesystem;
  fsys::remove_all(root + "/tree");
  fsys::remove_all(root + "/shards");
  auto o = sdn::data::testing::tiny_options(sdn::data::Layout::kVkitti1, root + "/tree");
  o.frames = frames;
  o.first_frame = first_frame;
  o.traffic.presence = 1.0;
  o.traffic.vehicle_scale = 2.0;
  sdn::data::write_synthetic(o);
  sdn::data::PackOptions p;
  p.src = root + "/tree";
  p.out = root + "/shards";
  p.threads = 1;
  p.progress = false;
  sdn::data::pack(p);
}

std::vector<std::int64_t> frames_of(const std::vector<sdn::data::Item>& items) {
  std::vector<std::int64_t> f;
  for (const auto& it : items) f.push_back(it.frame);
  return f;
}

}  // namespace

TEST(MaskRcnnItems, CacheIsUsedAndFollowsTheShards) {
  sdn::data::testing::TempDir dir;
  make_shards(dir.path(), 4, 0);
  const std::string cache = vehicle_items_cache_path(dir.path() + "/run", "train");
  bool cached = true;
  {
    sdn::data::ShardSet set(dir.path() + "/shards", "train");
    const auto want = frames_of(vehicle_frame_items(set, 50));
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)), want);
    EXPECT_FALSE(cached);  // nothing to read yet: computed, then written
    ASSERT_TRUE(std::filesystem::exists(cache));
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)), want);
    EXPECT_TRUE(cached);

    // The list really comes from the file: a hand-edited one (same key, one frame only) is what it returns.
    std::string text = sdn::data::testing::read_text(cache);
    const auto at = text.find("\nframes ");
    ASSERT_NE(at, std::string::npos);
    sdn::data::testing::write_text(cache, text.substr(0, at) + "\nframes 1\n" + std::to_string(want.back()) + "\n");
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)),
              std::vector<std::int64_t>{want.back()});
    EXPECT_TRUE(cached);

    // Another pixel threshold is another key: recomputed (and the file rewritten for it).
    const auto strict = frames_of(vehicle_frame_items(set, 400));
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 400, cache, true, &cached)), strict);
    EXPECT_FALSE(cached);
    // A miss that may not write (write = false) leaves the file as it was: it still holds the 400 list.
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, false, &cached)), want);
    EXPECT_FALSE(cached);
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 400, cache, false, &cached)), strict);
    EXPECT_TRUE(cached);

    // A damaged file is ignored, not trusted.
    sdn::data::testing::write_text(cache, text.substr(0, at) + "\nframes 3\n0\n");
    EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)), want);
    EXPECT_FALSE(cached);
  }
  // Re-packed with other frames under the same names: the index (sizes, CRCs, counts) changes, so does the key.
  make_shards(dir.path(), 6, 10);
  sdn::data::ShardSet set(dir.path() + "/shards", "train");
  const auto want = frames_of(vehicle_frame_items(set, 50));
  EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)), want);
  EXPECT_FALSE(cached);
  EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, cache, true, &cached)), want);
  EXPECT_TRUE(cached);
  // No cache path (a run without a directory): always read.
  EXPECT_EQ(frames_of(cached_vehicle_frame_items(set, 50, "", true, &cached)), want);
  EXPECT_FALSE(cached);
}

// `sdn eval` of the derenderer stage. The original's TestNet only logs its losses on the test split (no jitter);
// this adds per-object errors: orientation (degrees, median and mean), translation2d (ROI units), relative
// scale, depth and translation errors, and with derender.eval_render the silhouette of the most probable mesh:
// its mask loss and IoU against the instance mask (ignored pixels left out). Per-object values are summed into
// one array over the ranks, so the medians are those of the whole split, whatever the world size.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "data/items.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "models/derender/camera.hpp"
#include "train/stages/derender_stage.hpp"

namespace sdn::train {
namespace {

namespace md = models::derender;

// Per-object columns of the evaluation.
enum Column {
  kValid, kThetaLoss, kT2dLoss, kScaleLoss, kDepthLoss, kMaskLoss, kOrientation, kT2dError, kScaleRel, kDepthRel,
  kTransRel, kIou, kColumns
};

constexpr double kPi = 3.14159265358979323846;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

}  // namespace

EvalResult DerenderStage::evaluate(const data::ShardSet& eval, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = model_->is_training();
  model_->eval();
  const auto all = object_items(eval);
  const std::int64_t n = options.limit > 0 ? std::min<std::int64_t>(options.limit, all.size()) : all.size();
  const auto range = data::eval_range(n, comm.rank(), comm.size());
  std::vector<double> cols(static_cast<size_t>(kColumns * n), 0.0);
  auto at = [&](std::int64_t i, Column c) -> double& { return cols[static_cast<size_t>(c * n + i)]; };
  constexpr std::int64_t kChunk = 16;
  data::Sample frame;
  std::int64_t frame_index = -1;
  for (std::int64_t start = range.begin; start < range.end; start += kChunk) {
    const std::int64_t end = std::min(range.end, start + kChunk);
    std::vector<data::Sample> samples;
    for (std::int64_t i = start; i < end; ++i) {
      const auto& item = all[static_cast<size_t>(i)];
      if (item.frame != frame_index) {
        eval.read(item.frame, fields(), frame);
        frame_index = item.frame;
      }
      samples.push_back(frame);
      samples.back().object = item.object;
      samples.back().item = i;
    }
    const auto b = make_batch(samples, /*training=*/false, 0);
    if (b.size() == 0) continue;
    const auto f = forward(b, options_.eval_render, {});
    const auto& o = f.out;
    const auto& t = b.targets;
    auto sq = [](const torch::Tensor& a, const torch::Tensor& b) { return (a - b).pow(2).mean(1).to(torch::kCPU); };
    const auto theta_l = sq(o.theta_deltas, t.theta_deltas), t2d_l = sq(o.translation2ds, t.translation2ds);
    const auto scale_l = sq(o.log_scales, t.log_scales), depth_l = sq(o.log_depths, t.log_depths);
    const auto pose = md::decode_pose(o, f.mroi, f.droi);
    const auto gt_theta = torch::atan2(t.theta_deltas.select(1, 1), t.theta_deltas.select(1, 0));
    auto dtheta = torch::remainder(pose.thetas.squeeze(1) - gt_theta + kPi, 2 * kPi) - kPi;
    const auto orient = (dtheta.abs() * (180.0 / kPi)).to(torch::kCPU);
    const auto t2d_e = (o.translation2ds - t.translation2ds).norm(2, 1).to(torch::kCPU);
    const auto scale_r = ((pose.scales - b.scales).abs() / b.scales).mean(1).to(torch::kCPU);
    const auto gt_depth = b.translations.norm(2, 1);
    const auto depth_r = ((pose.depths.squeeze(1) - gt_depth).abs() / gt_depth).to(torch::kCPU);
    const auto trans_r = ((pose.translations - b.translations).norm(2, 1) / gt_depth).to(torch::kCPU);
    torch::Tensor mask_l, iou;
    if (f.rendered) {
      mask_l = md::mask_losses(f.reprojection.masks, b.masks, b.ignores, options_.mask_weight).to(torch::kCPU);
      const auto s = options_.render_size;
      const auto keep = md::pad_to_render(b.ignores, s, true) < 0.5;
      const auto pred = (f.reprojection.masks > 0.5).logical_and(keep);
      const auto gt = (md::pad_to_render(b.masks, s, false) > 0.5).logical_and(keep);
      const auto inter = pred.logical_and(gt).flatten(1).sum(1).to(torch::kDouble);
      const auto uni = pred.logical_or(gt).flatten(1).sum(1).to(torch::kDouble);
      iou = (inter / uni.clamp_min(1)).to(torch::kCPU);
    }
    for (std::int64_t r = 0; r < b.size(); ++r) {
      const std::int64_t i = b.items[static_cast<size_t>(r)];
      at(i, kValid) = 1;
      at(i, kThetaLoss) = theta_l[r].item<double>();
      at(i, kT2dLoss) = t2d_l[r].item<double>();
      at(i, kScaleLoss) = scale_l[r].item<double>();
      at(i, kDepthLoss) = depth_l[r].item<double>();
      at(i, kOrientation) = orient[r].item<double>();
      at(i, kT2dError) = t2d_e[r].item<double>();
      at(i, kScaleRel) = scale_r[r].item<double>();
      at(i, kDepthRel) = depth_r[r].item<double>();
      at(i, kTransRel) = trans_r[r].item<double>();
      if (f.rendered) {
        at(i, kMaskLoss) = mask_l[r].item<double>();
        at(i, kIou) = iou[r].item<double>();
      }
    }
  }
  cols = dist::allreduce_sum(comm, std::move(cols));
  model_->train(was_training);

  std::vector<std::vector<double>> v(kColumns);
  for (std::int64_t i = 0; i < n; ++i)
    if (at(i, kValid) > 0)
      for (int c = 0; c < kColumns; ++c) v[static_cast<size_t>(c)].push_back(at(i, static_cast<Column>(c)));
  const double count = static_cast<double>(v[kValid].size());
  auto mean = [&](Column c) {
    double s = 0;
    for (double x : v[c]) s += x;
    return count > 0 ? s / count : 0.0;
  };
  EvalResult r;
  const double geometry = mean(kThetaLoss) + mean(kT2dLoss) + mean(kScaleLoss) + mean(kDepthLoss);
  r.metrics = {{"theta_delta_loss", mean(kThetaLoss)},
               {"translation2d_loss", mean(kT2dLoss)},
               {"scale_loss", mean(kScaleLoss)},
               {"depth_loss", mean(kDepthLoss)},
               {"geometry_loss", geometry},
               {"orientation_median_deg", median(v[kOrientation])},
               {"orientation_mean_deg", mean(kOrientation)},
               {"translation2d_error", mean(kT2dError)},
               {"scale_rel_error", mean(kScaleRel)},
               {"depth_rel_error", mean(kDepthRel)},
               {"translation_rel_error", mean(kTransRel)}};
  if (options_.eval_render) {
    r.metrics.emplace_back("mask_loss", mean(kMaskLoss));
    r.metrics.emplace_back("mask_iou", mean(kIou));
  }
  r.metrics.emplace_back("objects", count);
  std::ostringstream table, csv;
  csv << "metric,value\n";
  for (const auto& [name, value] : r.metrics) {
    char line[96];
    std::snprintf(line, sizeof line, "%-24s %.6g\n", name.c_str(), value);
    table << line;
    csv << name << "," << value << "\n";
  }
  table << "(" << static_cast<long long>(count) << " of " << static_cast<long long>(n) << " objects, mode "
        << options_.mode << ")\n";
  r.table = table.str();
  r.csv = csv.str();
  return r;
}

}  // namespace sdn::train

// Implements the semantic-branch stage (see semantic_stage.hpp).
#include "train/semantic_stage.hpp"

#include <cstdio>
#include <sstream>

#include "data/augment.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "data/vkitti.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "models/seg_metrics.hpp"
#include "models/semantic_batch.hpp"
#include "models/semantic_loss.hpp"
#include "models/sync_batchnorm.hpp"
#include "models/weights_io.hpp"

namespace sdn::train {
namespace {

std::vector<models::SemanticImage> views(const std::vector<data::Sample>& samples, bool with_labels) {
  std::vector<models::SemanticImage> out;
  for (const auto& s : samples)
    out.push_back({s.height, s.width, s.rgb.data(), with_labels ? s.classes.data() : nullptr});
  return out;
}

}  // namespace

SemanticStage::SemanticStage(const TrainConfig& config, torch::Device device,
                             std::function<void(torch::Tensor&)> cross_rank_sum)
    : config_(config), device_(device),
      model_(models::build_semantic_model({config.model.arch, config.model.num_classes, config.train.seed})),
      eval_scales_{config.augment.short_sides.empty() ? 375 : config.augment.short_sides.back()} {
  if (!config.model.init_weights.empty()) models::import_weights(*model_, config.model.arch, config.model.init_weights);
  model_->to(device_);
  if (config.model.sync_bn) models::set_cross_rank_sum(*model_, cross_rank_sum);
  Phase p;
  p.name = "model";
  for (const auto& item : model_->named_parameters())
    if (item.value().requires_grad()) p.params.emplace_back(item.key(), item.value());
  std::vector<torch::Tensor> params;
  for (auto& [n, t] : p.params) params.push_back(t);
  // The original keeps one SGD per network (encoder, decoder) with identical settings: one optimiser over
  // all trainable parameters is the same update.
  p.optimizer = std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(config.optim.lr).momentum(config.optim.momentum).weight_decay(config.optim.weight_decay));
  phases_.push_back(std::move(p));
}

data::AugmentOptions SemanticStage::augment() const {
  data::AugmentOptions a;
  a.short_sides = config_.augment.short_sides;
  a.max_long_side = config_.augment.max_long_side;
  a.flip = config_.augment.flip;
  a.brightness = config_.augment.brightness;
  a.contrast = config_.augment.contrast;
  a.saturation = config_.augment.saturation;
  a.hue = config_.augment.hue;
  return a;
}

std::vector<std::pair<std::string, torch::nn::Module*>> SemanticStage::modules() { return {{"model", model_.get()}}; }

LossTerms SemanticStage::loss(size_t, const std::vector<data::Sample>& micro) {
  auto batch = models::make_semantic_batch(views(micro, true));
  auto out = model_->forward_train(batch.images.to(device_));
  auto terms = models::semantic_loss(out, batch.labels.to(device_), {config_.optim.deep_sup_scale, -1});
  LossTerms l;
  l.total = terms.total;
  l.terms = {{"loss", terms.total.item<double>()}, {"pixel_acc", terms.pixel_acc.item<double>()}};
  return l;
}

double SemanticStage::lr(size_t, std::int64_t step, std::int64_t total_steps) const {
  return poly_lr(config_.optim.lr, std::max<std::int64_t>(0, step - 1), total_steps, config_.optim.lr_power) *
         (config_.optim.warmup_steps > 0 ? std::min(1.0, (step + 1.0) / config_.optim.warmup_steps) : 1.0);
}

torch::Tensor SemanticStage::predict_probabilities(const data::Sample& s, const std::vector<int>& scales) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum;
  for (int scale : scales) {
    int w = 0, h = 0;
    data::scaled_size(s.width, s.height, scale, config_.augment.max_long_side, 8, w, h);
    data::Sample r;
    r.width = w, r.height = h;
    r.rgb = data::resize_bilinear_rgb(s.rgb, s.width, s.height, w, h);
    auto batch = models::make_semantic_batch(views({r}, false));
    auto probs = model_->forward_infer(batch.images.to(device_), {s.height, s.width});
    sum = sum.defined() ? sum + probs : probs;
  }
  return sum / static_cast<double>(scales.size());
}

EvalResult SemanticStage::evaluate(const data::ShardSet& eval, std::int64_t limit, const dist::Communicator& comm) {
  const bool was_training = model_->is_training();
  model_->eval();
  const std::int64_t n = limit > 0 ? std::min(limit, eval.size()) : eval.size();
  auto range = data::eval_range(n, comm.rank(), comm.size());
  models::ConfusionMatrix cm(config_.model.num_classes);
  data::Sample s;
  for (std::int64_t i = range.begin; i < range.end; ++i) {
    eval.read(i, {true, true, false, false}, s);
    auto pred = predict_probabilities(s, eval_scales_).argmax(1).to(torch::kCPU);
    auto labels = torch::empty({1, s.height, s.width}, torch::kLong);
    auto* L = labels.data_ptr<int64_t>();
    for (size_t k = 0; k < s.classes.size(); ++k) L[k] = models::training_label(s.classes[k]);
    cm.add(pred, labels);
  }
  // Sum the per-rank matrices: exact (integer counts), independent of how the set was split.
  std::vector<double> counts(cm.counts().data_ptr<int64_t>(), cm.counts().data_ptr<int64_t>() + cm.counts().numel());
  counts = dist::allreduce_sum(comm, counts);
  for (size_t k = 0; k < counts.size(); ++k) cm.counts().data_ptr<int64_t>()[k] = static_cast<int64_t>(counts[k]);
  model_->train(was_training);

  EvalResult r;
  r.metrics = {{"mIoU", cm.mean_iou()}, {"pixel_acc", cm.pixel_accuracy()}, {"samples", static_cast<double>(n)}};
  std::ostringstream table, csv;
  csv << "class,iou\n";
  table << "class          IoU\n";
  auto iou = cm.iou();
  for (size_t c = 0; c < iou.size(); ++c) {
    // Output channel c is 3D-SDN class c+1 (Misc is ignored); the last channel is never a target.
    std::string name = c + 1 < data::class_names().size() ? data::class_names()[c + 1] : "(unused)";
    char line[96];
    std::snprintf(line, sizeof line, "%-13s %6.2f%%\n", name.c_str(), 100.0 * iou[c]);
    table << line;
    csv << name << "," << iou[c] << "\n";
  }
  char tail[160];
  std::snprintf(tail, sizeof tail, "mIoU %.2f%%  pixel accuracy %.2f%%  (%lld samples, scales %s)\n",
                100.0 * cm.mean_iou(), 100.0 * cm.pixel_accuracy(), static_cast<long long>(n),
                [&] {
                  std::string s;
                  for (int x : eval_scales_) s += (s.empty() ? "" : ",") + std::to_string(x);
                  return s;
                }().c_str());
  table << tail;
  csv << "mIoU," << cm.mean_iou() << "\npixel_acc," << cm.pixel_accuracy() << "\n";
  r.table = table.str();
  r.csv = csv.str();
  return r;
}

}  // namespace sdn::train

// Implements the semantic-branch stage (see semantic_stage.hpp).
#include "train/stages/semantic_stage.hpp"

#include <cstdio>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "data/augment.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "data/vkitti.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "models/seg_metrics.hpp"
#include "models/semantic_batch.hpp"
#include "models/encoder_weights.hpp"
#include "models/semantic_loss.hpp"
#include "models/sync_batchnorm.hpp"
#include "models/weights_io.hpp"
#include "train/init_weights.hpp"

namespace sdn::train {
namespace {

std::vector<models::SemanticImage> views(const std::vector<data::Sample>& samples, bool with_labels) {
  std::vector<models::SemanticImage> out;
  for (const auto& s : samples)
    out.push_back({s.height, s.width, s.rgb.data(), with_labels ? s.classes.data() : nullptr});
  return out;
}

}  // namespace

SemanticStage::SemanticStage(const TrainConfig& config, const StageContext& context)
    : config_(config), options_(stage_options<SemanticOptions>(config)), device_(context.device),
      model_(models::build_semantic_model({options_.model.arch, options_.model.num_classes, config.train.seed})) {
  const std::string imported = import_initial_weights(*model_, options_.model.arch, config.init);
  if (!imported.empty() && context.rank == 0) spdlog::info("{}", imported);
  const auto& m = options_.model;
  if (!m.encoder_weights.empty()) models::import_encoder_weights(*model_, m.arch, m.encoder_weights);
  // The paper's recipe without its ImageNet start: said once per run (rank 0), since it changes the results.
  if (m.arch == "resnet50dilated8_ppm_deepsup" && config.init.weights.empty() && m.encoder_weights.empty() &&
      context.rank == 0)
    spdlog::warn("model.encoder_weights is not set: the encoder starts from random weights, while the original "
                 "fine-tunes the ImageNet ResNet-50 (resnet50-imagenet.pth, convert with scripts/pth_to_h5.py)");
  model_->to(device_);
  if (options_.model.sync_bn) models::set_cross_rank_sum(*model_, context.cross_rank_sum);
  Phase p;
  p.name = "model";
  p.params = trainable_parameters(*model_);
  std::vector<torch::Tensor> params;
  for (auto& [n, t] : p.params) params.push_back(t);
  // The original keeps one SGD per network (encoder, decoder) with identical settings: one optimiser over
  // all trainable parameters is the same update.
  const auto& o = options_.optim;
  p.optimizer = std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  phases_.push_back(std::move(p));
}

data::Fields SemanticStage::fields() const {
  data::Fields f;
  f.rgb = f.classes = true;
  f.instance = f.depth = false;
  return f;
}

data::AugmentOptions SemanticStage::augment() const {
  const auto& c = options_.augment;
  data::AugmentOptions a;
  a.short_sides = c.short_sides;
  a.max_long_side = c.max_long_side;
  a.flip = c.flip;
  a.brightness = c.brightness;
  a.contrast = c.contrast;
  a.saturation = c.saturation;
  a.hue = c.hue;
  return a;
}

std::vector<std::pair<std::string, torch::nn::Module*>> SemanticStage::modules() { return {{"model", model_.get()}}; }

LossTerms SemanticStage::loss(size_t, size_t, const std::vector<data::Sample>& samples) {
  auto batch = models::make_semantic_batch(views(samples, true));
  auto out = model_->forward_train(batch.images.to(device_));
  auto terms = models::semantic_loss(out, batch.labels.to(device_), {options_.optim.deep_sup_scale, -1});
  LossTerms l;
  l.total = terms.total;
  l.terms = {{"loss", terms.total.item<double>()}, {"pixel_acc", terms.pixel_acc.item<double>()}};
  return l;
}

double SemanticStage::lr(size_t, std::int64_t step, std::int64_t total_steps) const {
  const auto& o = options_.optim;
  return poly_lr(o.lr, std::max<std::int64_t>(0, step - 1), total_steps, o.lr_power) *
         (o.warmup_steps > 0 ? std::min(1.0, (step + 1.0) / static_cast<double>(o.warmup_steps)) : 1.0);
}

torch::Tensor SemanticStage::predict_probabilities(const data::Sample& s, const std::vector<int>& scales) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum;
  for (int scale : scales) {
    int w = 0, h = 0;
    data::scaled_size(s.width, s.height, scale, options_.augment.max_long_side, 8, w, h);
    data::Sample r;
    r.width = w, r.height = h;
    r.rgb = data::resize_bilinear_rgb(s.rgb, s.width, s.height, w, h);
    auto batch = models::make_semantic_batch(views({r}, false));
    auto probs = model_->forward_infer(batch.images.to(device_), {s.height, s.width});
    sum = sum.defined() ? sum + probs : probs;
  }
  return sum / static_cast<double>(scales.size());
}

std::vector<int> SemanticStage::scales_or_default(const InferenceOptions& o) const {
  if (!o.scales.empty()) return o.scales;
  const auto& sides = options_.augment.short_sides;
  return {sides.empty() ? 375 : sides.back()};
}

EvalResult SemanticStage::evaluate(const data::ShardSet& eval, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  const bool was_training = model_->is_training();
  model_->eval();
  const auto scales = scales_or_default(options);
  const std::int64_t n = options.limit > 0 ? std::min(options.limit, eval.size()) : eval.size();
  auto range = data::eval_range(n, comm.rank(), comm.size());
  models::ConfusionMatrix cm(options_.model.num_classes);
  data::Sample s;
  for (std::int64_t i = range.begin; i < range.end; ++i) {
    eval.read(i, {true, true, false, false}, s);
    auto pred = predict_probabilities(s, scales).argmax(1).to(torch::kCPU);
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
                  for (int x : scales) s += (s.empty() ? "" : ",") + std::to_string(x);
                  return s;
                }().c_str());
  table << tail;
  csv << "mIoU," << cm.mean_iou() << "\npixel_acc," << cm.pixel_accuracy() << "\n";
  r.table = table.str();
  r.csv = csv.str();
  return r;
}

StageSpec semantic_stage_spec() {
  StageSpec s;
  s.name = "semantic";
  s.summary = "semantic segmentation: resnet50dilated8 + PPM deep supervision or DRN-D-22";
  s.default_options = SemanticOptions{};
  s.add_options = add_semantic_options;
  s.validate = validate_semantic;
  s.validate_for_world = validate_semantic_for_world;
  s.resume_neutral_keys = {"model.encoder_weights"};  // read at step 0 only, like model.init_weights
  s.recipe_knobs = [](TrainConfig& c) {
    auto& o = stage_options<SemanticOptions>(c).optim;
    return RecipeKnobs{&o.lr, &o.warmup_steps};
  };
  s.make = [](const TrainConfig& c, const StageContext& ctx) -> std::unique_ptr<Stage> {
    return std::make_unique<SemanticStage>(c, ctx);
  };
  return s;
}

}  // namespace sdn::train

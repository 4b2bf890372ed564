// Implements the Mask R-CNN stage (see maskrcnn_stage.hpp): construction and weights, the item list, the
// schedule, the training loss and evaluation. Prediction is maskrcnn_predict.cpp.
#include "train/stages/maskrcnn_stage.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "models/init.hpp"
#include "models/maskrcnn/frozen_batchnorm.hpp"
#include "models/maskrcnn/image_prep.hpp"
#include "models/maskrcnn/instances.hpp"
#include "models/maskrcnn/layers.hpp"
#include "models/maskrcnn/training_sample.hpp"
#include "train/init_weights.hpp"
#include "train/stages/maskrcnn_metrics.hpp"

namespace sdn::train {
namespace mr = models::maskrcnn;
namespace {

constexpr std::uint64_t kSampleStream = 0x4d52434eULL;  // "MRCN": RPN anchor and RoI subsets of one sample

// SGD that clips the norm of its parameters' gradient first: the original's clip_grad_norm(params, 5) before
// every optimizer.step(). A subclass, so the checkpoint code still sees (and saves) an SGD.
class ClippedSgd : public torch::optim::SGD {
 public:
  ClippedSgd(std::vector<torch::optim::OptimizerParamGroup> groups, torch::optim::SGDOptions defaults, double clip)
      : torch::optim::SGD(std::move(groups), std::move(defaults)), clip_(clip) {}
  torch::Tensor step(LossClosure closure = nullptr) override {
    if (clip_ > 0) {
      std::vector<torch::Tensor> grads;
      for (auto& g : param_groups())
        for (auto& p : g.params())
          if (p.grad().defined()) grads.push_back(p);
      if (!grads.empty()) torch::nn::utils::clip_grad_norm_(grads, clip_);
    }
    return torch::optim::SGD::step(std::move(closure));
  }

 private:
  double clip_;
};

// Trained-looking frozen BN scales for a start without pretrained weights (see MaskRcnnStageOptions::bn_init).
void damp_batchnorms(mr::MaskRcnnImpl& model) {
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_modules()) {
    auto* bn = dynamic_cast<mr::FrozenBatchNorm2dImpl*>(item.value().get());
    if (!bn) continue;
    const std::string& k = item.key();
    if (k == "fpn.C1.1") bn->weight.fill_(0.02);
    if (k.size() > 4 && k.compare(k.size() - 4, 4, ".bn3") == 0) bn->weight.fill_(0.2);
    if (k.find("downsample.1") != std::string::npos) bn->weight.fill_(0.5);
  }
}

torch::Tensor rgb_tensor(const data::Sample& s) {
  return torch::from_blob(const_cast<std::uint8_t*>(s.rgb.data()), {s.height, s.width, 3}, torch::kUInt8);
}

}  // namespace

MaskRcnnStage::MaskRcnnStage(const TrainConfig& config, const StageContext& context)
    : config_(config), options_(stage_options<MaskRcnnStageOptions>(config)),
      model_options_(options_.model(config.train.seed)), device_(context.device), rank_(context.rank),
      model_(model_options_) {
  if (options_.bn_init == "damped") damp_batchnorms(*model_);
  const std::string imported = import_initial_weights(*model_, "maskrcnn", config.init);
  if (!imported.empty() && context.rank == 0) spdlog::info("{}", imported);
  for (const auto& p : model_->named_parameters())
    if (!p.value().requires_grad()) bn_params_.push_back(p.key());
  model_->to(device_);
  enter_schedule(0, 1);
}

data::Fields MaskRcnnStage::fields() const {
  data::Fields f;
  f.rgb = f.classes = f.instance = true;
  f.depth = f.objects = false;
  return f;
}

data::AugmentOptions MaskRcnnStage::augment() const {
  data::AugmentOptions a;
  a.short_sides = {};  // the resize and padding to the square are make_training_sample's
  a.flip = options_.flip;
  a.brightness = options_.brightness;
  a.contrast = options_.contrast;
  a.saturation = options_.saturation;
  a.hue = options_.hue;
  return a;
}

std::vector<std::string> MaskRcnnStage::terms() const {
  std::vector<std::string> t = {"loss"};
  for (const auto& n : mr::MaskRcnnLosses::names()) t.push_back(n);
  return t;
}

std::shared_ptr<const std::vector<data::Item>> MaskRcnnStage::items(const data::ShardSet& train) {
  auto items = vehicle_frames(train);
  if (items.empty())
    throw UsageError("maskrcnn: no frame of the training split holds a car or van instance of more than " +
                         std::to_string(options_.min_instance_pixels) + " pixels",
                     "check data.shards / data.split, or lower maskrcnn.min_instance_pixels");
  return std::make_shared<const std::vector<data::Item>>(std::move(items));
}

std::vector<data::Item> MaskRcnnStage::vehicle_frames(const data::ShardSet& set) const {
  const std::string path =
      config_.run_dir.empty() ? "" : vehicle_items_cache_path(config_.run_dir, set.index().split);
  bool cached = false;
  auto items = cached_vehicle_frame_items(set, options_.min_instance_pixels, path, rank_ == 0, &cached);
  if (rank_ == 0)
    spdlog::info("maskrcnn: {} of {} {} frames hold a vehicle ({})", items.size(), set.size(), set.index().split,
                 cached ? "from the cache " + path : "read from the shards");
  return items;
}

void MaskRcnnStage::begin_step(std::int64_t step) {
  step_ = step;
  // A step whose images give no RoI leaves the heads without a gradient. Once a parameter has one, zero_grad
  // keeps it (as zeros) and SGD still applies momentum and weight decay; a fresh process after a resume would
  // skip such a parameter instead. Giving every trainable parameter a gradient from the start makes both the
  // same (docs/fidelity.md).
  torch::NoGradGuard no_grad;
  for (auto& phase : phases_)
    for (auto& [name, p] : phase.params)
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
}

LossTerms MaskRcnnStage::loss(size_t, size_t, const std::vector<data::Sample>& samples) {
  std::vector<torch::Tensor> images;
  std::vector<mr::MaskRcnnGt> gts;
  std::vector<at::Generator> gens;
  const auto& anchors = model_->anchors(torch::kCPU);
  for (const auto& s : samples) {
    // Keyed by (seed, step, item): the sampled anchors and RoIs of a sample are the same on any rank and after
    // a resume. The flip was the loader's (augment()), so the sample is used as it comes.
    auto gen = models::init::make_generator(hash_key({config_.train.seed, kSampleStream,
                                                      static_cast<std::uint64_t>(step_), static_cast<std::uint64_t>(s.item)}));
    auto t = mr::make_training_sample(rgb_tensor(s), s.classes, s.instance, /*flip=*/false, model_options_, anchors, gen);
    images.push_back(t.image);
    gts.push_back(std::move(t.gt));
    gens.push_back(gen);
  }
  auto losses = model_->forward_train(torch::stack(images).to(device_), gts, gens);
  last_rois_ = losses.rois_per_image;
  LossTerms l;
  l.total = losses.total();
  l.terms.emplace_back("loss", l.total.item<double>());
  const auto parts = losses.terms();
  for (size_t k = 0; k < parts.size(); ++k) l.terms.emplace_back(mr::MaskRcnnLosses::names()[k], parts[k].item<double>());
  return l;
}

std::vector<std::int64_t> MaskRcnnStage::schedule_points(std::int64_t total) const {
  std::vector<std::int64_t> out;
  const auto& e = options_.part_epochs;
  for (size_t k = 0; k + 1 < e.size(); ++k) {
    const std::int64_t p = total * e[k] / e.back();
    if (p > 0 && p < total && (out.empty() || p > out.back())) out.push_back(p);
  }
  return out;
}

size_t MaskRcnnStage::part_of(std::int64_t step, std::int64_t total) const {
  // Parts whose boundary rounds onto an earlier one are skipped: the later part wins.
  const auto& e = options_.part_epochs;
  size_t part = 0;
  for (size_t k = 0; k + 1 < e.size(); ++k)
    if (step >= total * e[k] / e.back()) part = k + 1;
  return part;
}

double MaskRcnnStage::lr(size_t, std::int64_t step, std::int64_t total) const {
  return options_.part_rates().at(part_of(step, total));
}

void MaskRcnnStage::enter_schedule(std::int64_t step, std::int64_t total) {
  const size_t part = part_of(step, total);
  auto regex_of = [&](size_t k) {
    const auto& l = options_.layers.at(k);
    return mr::layer_regex(l == "transfer" ? "heads" : l);
  };
  std::vector<std::string> regexes;
  for (size_t k = options_.never_unfreeze ? 0 : part; k <= part; ++k) regexes.push_back(regex_of(k));
  for (auto& p : model_->named_parameters()) {
    bool on = std::find(bn_params_.begin(), bn_params_.end(), p.key()) == bn_params_.end();
    for (const auto& r : regexes) on = on && mr::full_match(r, p.key());
    p.value().set_requires_grad(on);
  }
  phases_.clear();
  Phase ph;
  ph.name = "model";
  ph.params = trainable_parameters(*model_);
  // vkitti.py's transfer part: the layers load_weights(transfer=1) left at init train at 1e-2, the other
  // heads at the part's rate. Otherwise one group (the original's BN group is empty: every BN is frozen).
  std::vector<torch::Tensor> fresh, rest;
  const bool transfer = options_.layers.at(part) == "transfer";
  for (auto& [n, t] : ph.params) (transfer && mr::full_match(mr::transfer_layer_regex(), n) ? fresh : rest).push_back(t);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  const double rate = options_.part_rates().at(part);
  if (!fresh.empty()) {
    groups.emplace_back(fresh);
    ph.lr_scale.push_back(rate > 0 ? options_.transfer_lr / rate : 0.0);
  }
  if (!rest.empty()) {
    groups.emplace_back(rest);
    ph.lr_scale.push_back(1.0);
  }
  ph.optimizer = std::make_unique<ClippedSgd>(
      groups, torch::optim::SGDOptions(rate).momentum(options_.momentum).weight_decay(options_.weight_decay),
      options_.clip_norm);
  phases_.push_back(std::move(ph));
}

mr::FrameDetections MaskRcnnStage::detect_frame(const data::Sample& s) {
  torch::NoGradGuard no_grad;
  auto plan = mr::plan_resize(s.height, s.width, model_options_);
  auto image = mr::mold_image(rgb_tensor(s), plan, model_options_);
  auto dets = model_->detect(image.unsqueeze(0).to(device_), {plan.window});
  auto& d = dets.at(0);
  d.boxes = d.boxes.cpu(), d.class_ids = d.class_ids.cpu(), d.scores = d.scores.cpu(), d.masks = d.masks.cpu();
  return mr::unmold_detections(d, plan.window);
}

EvalResult MaskRcnnStage::evaluate(const data::ShardSet& eval, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  const bool was_training = model_->is_training();
  model_->eval();
  const auto items = vehicle_frames(eval);
  const auto n = options.limit > 0 ? std::min<std::int64_t>(options.limit, items.size()) : static_cast<std::int64_t>(items.size());
  auto range = data::eval_range(n, comm.rank(), comm.size());
  constexpr int kFields = 4;  // class, score, box bits, mask bits
  std::vector<double> mine, npos(2, 0.0);
  data::Sample s;
  for (std::int64_t i = range.begin; i < range.end; ++i) {
    eval.read(items[static_cast<size_t>(i)].frame, fields(), s);
    auto gt = mr::extract_vehicle_instances(s.classes, s.instance, s.width, s.height, options_.min_instance_pixels);
    auto gt_boxes = mr::extract_bboxes(gt.masks);
    auto d = detect_frame(s);
    std::vector<int> dc, gc;
    std::vector<double> ds;
    for (std::int64_t k = 0; k < d.class_ids.size(0); ++k) {
      dc.push_back(static_cast<int>(d.class_ids[k].item<std::int64_t>()));
      ds.push_back(d.scores[k].item<double>());
    }
    for (std::int64_t k = 0; k < gt.class_ids.size(0); ++k) {
      gc.push_back(static_cast<int>(gt.class_ids[k].item<std::int64_t>()));
      npos[static_cast<size_t>(gc.back() - 1)] += 1;
    }
    auto records = match_image(dc, ds, gc, box_iou(d.boxes, gt_boxes), mask_iou(d.masks, gt.masks));
    for (const auto& r : records)
      mine.insert(mine.end(), {static_cast<double>(r.class_id), r.score, static_cast<double>(r.box_tp),
                               static_cast<double>(r.mask_tp)});
  }
  // Every rank's records on every rank, in rank (= frame) order: sums with zeros are exact, and the stable sort
  // by score then sees the same sequence whatever the world size.
  std::vector<double> sizes(static_cast<size_t>(comm.size()), 0.0);
  sizes[static_cast<size_t>(comm.rank())] = static_cast<double>(mine.size());
  sizes = dist::allreduce_sum(comm, sizes);
  size_t offset = 0, total = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r < comm.rank()) offset += static_cast<size_t>(sizes[static_cast<size_t>(r)]);
    total += static_cast<size_t>(sizes[static_cast<size_t>(r)]);
  }
  std::vector<double> all(total, 0.0);
  std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(offset));
  if (total > 0) all = dist::allreduce_sum(comm, all);
  npos = dist::allreduce_sum(comm, npos);
  model_->train(was_training);

  std::vector<DetectionRecord> per_class[2];
  for (size_t k = 0; k + kFields <= all.size(); k += kFields) {
    const int c = static_cast<int>(all[k]);
    if (c < 1 || c > 2) continue;
    per_class[c - 1].push_back({c, all[k + 1], static_cast<std::uint32_t>(all[k + 2]), static_cast<std::uint32_t>(all[k + 3])});
  }
  static const char* kNames[2] = {"car", "van"};
  EvalResult r;
  std::ostringstream table, csv;
  csv << "kind,class,AP50,AP75,AP,instances\n";
  table << "kind class   AP50    AP75    AP@[.5:.95]  instances\n";
  for (int mask = 0; mask < 2; ++mask) {
    const char* kind = mask ? "mask" : "box";
    double mean[3] = {0, 0, 0};
    int classes = 0;
    for (int c = 0; c < 2; ++c) {
      const auto np = static_cast<std::int64_t>(npos[static_cast<size_t>(c)]);
      double ap[kIouThresholds];
      for (int t = 0; t < kIouThresholds; ++t) ap[t] = average_precision(per_class[c], mask != 0, t, np);
      double coco = 0;
      for (double v : ap) coco += v / kIouThresholds;
      char line[128];
      if (np > 0) {
        mean[0] += ap[0], mean[1] += ap[5], mean[2] += coco, ++classes;
        std::snprintf(line, sizeof line, "%-4s %-5s %6.2f%% %6.2f%% %6.2f%%      %lld\n", kind, kNames[c], 100 * ap[0],
                      100 * ap[5], 100 * coco, static_cast<long long>(np));
      } else {
        std::snprintf(line, sizeof line, "%-4s %-5s      -       -       -          0\n", kind, kNames[c]);
      }
      table << line;
      csv << kind << "," << kNames[c] << "," << (np > 0 ? ap[0] : -1) << "," << (np > 0 ? ap[5] : -1) << ","
          << (np > 0 ? coco : -1) << "," << np << "\n";
    }
    for (double& m : mean) m = classes > 0 ? m / classes : 0.0;
    const std::string k = kind;
    r.metrics.insert(r.metrics.end(), {{k + "_AP50", mean[0]}, {k + "_AP75", mean[1]}, {k + "_AP", mean[2]}});
    char line[128];
    std::snprintf(line, sizeof line, "%-4s mean  %6.2f%% %6.2f%% %6.2f%%\n", kind, 100 * mean[0], 100 * mean[1], 100 * mean[2]);
    table << line;
    csv << kind << ",mean," << mean[0] << "," << mean[1] << "," << mean[2] << "," << npos[0] + npos[1] << "\n";
  }
  r.metrics.emplace_back("frames", static_cast<double>(n));
  table << "(" << n << " frames with vehicles, " << total / kFields << " detections)\n";
  r.table = table.str();
  r.csv = csv.str();
  return r;
}

StageSpec maskrcnn_stage_spec() {
  StageSpec s;
  s.name = "maskrcnn";
  s.summary = "Mask R-CNN (ResNet-101 FPN) car/van detection, staged: transfer, heads, 4+, all";
  s.default_options = MaskRcnnStageOptions{};
  s.add_options = add_maskrcnn_options;
  s.validate = validate_maskrcnn;
  s.resume_neutral_keys = {"maskrcnn.predict_max_objects", "maskrcnn.predict_min_mask_area"};
  s.make = [](const TrainConfig& c, const StageContext& ctx) -> std::unique_ptr<Stage> {
    return std::make_unique<MaskRcnnStage>(c, ctx);
  };
  return s;
}

}  // namespace sdn::train

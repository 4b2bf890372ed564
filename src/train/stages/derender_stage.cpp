// Implements the derenderer stage: items, crops, forward, losses, schedule and the pretrained start (see
// derender_stage.hpp); evaluation is in derender_eval.cpp, prediction in derender_predict.cpp.
#include "train/stages/derender_stage.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "ckpt/checkpoint.hpp"
#include "ckpt/store.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/derender_targets.hpp"
#include "data/items.hpp"
#include "data/mesh.hpp"
#include "data/mesh_vehicles.hpp"
#include "data/pil_ops.hpp"
#include "data/shard_set.hpp"
#include "models/derender/camera.hpp"
#include "models/sync_batchnorm.hpp"
#include "train/init_weights.hpp"
#include "train/train_state.hpp"

namespace sdn::train {
namespace {

namespace md = models::derender;
namespace dd = data::derender;

// Streams of the per-(epoch, item) draws.
constexpr std::uint64_t kCropStream = 0xd3c0;  // ROI jitter, then the colour jitter
constexpr std::uint64_t kMeshStream = 0xd3e5;  // the REINFORCE mesh sample

constexpr int kCar = 2, kVan = 12;

std::vector<data::Mesh> load_meshes(const DerenderOptions& o) {
  if (o.meshes.empty()) {
    data::VehicleMeshOptions vo;
    vo.stations = o.mesh_stations;
    return data::vehicle_meshes(vo);
  }
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(o.meshes))
    if (e.is_regular_file() && e.path().extension() == ".obj") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  if (static_cast<int>(paths.size()) != data::kVehicleMeshCount)
    throw UsageError("derender.meshes: " + o.meshes + " holds " + std::to_string(paths.size()) + " .obj file(s), not " +
                         std::to_string(data::kVehicleMeshCount),
                     "put exactly the 8 meshes there (named so that name order is the class order, e.g. 0-sedan.obj)");
  std::vector<data::Mesh> out;
  for (const auto& p : paths) out.push_back(data::load_shapenet_obj(p));
  return out;
}

torch::Tensor floats(const std::vector<float>& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat).clone();
}

}  // namespace

data::Frame frame_of(const data::Sample& s) {
  data::Frame f;
  f.width = s.width;
  f.height = s.height;
  f.rgb = s.rgb;
  f.instance = s.instance;
  f.objects = s.objects;
  f.K = s.K;
  return f;
}

DerenderStage::DerenderStage(const TrainConfig& config, const StageContext& context)
    : config_(config), options_(stage_options<DerenderOptions>(config)), device_(context.device), rank_(context.rank) {
  model_ = md::Derenderer(md::DerendererOptions().num_classes(data::kVehicleMeshCount).seed(config.train.seed));
  const std::string imported = import_initial_weights(*model_, weights_name("model"), config.init);
  if (!imported.empty() && rank_ == 0) spdlog::info("{}", imported);
  model_->to(device_);
  if (options_.sync_bn) models::set_cross_rank_sum(*model_, context.cross_rank_sum);
  bank_ = derender_mesh_bank(options_, model_->options.grid_size(), &mesh_names_);
  bank_.to(device_);
}

md::MeshBank derender_mesh_bank(const DerenderOptions& options, std::int64_t grid_size, std::vector<std::string>* names) {
  md::MeshBank bank;
  for (const auto& m : load_meshes(options)) {
    auto v = torch::empty({static_cast<int64_t>(m.vertices.size()), 3});
    auto f = torch::empty({static_cast<int64_t>(m.faces.size()), 3}, torch::kLong);
    auto va = v.accessor<float, 2>();
    auto fa = f.accessor<int64_t, 2>();
    for (size_t i = 0; i < m.vertices.size(); ++i)
      for (int a = 0; a < 3; ++a) va[static_cast<int64_t>(i)][a] = m.vertices[i][a];
    for (size_t i = 0; i < m.faces.size(); ++i)
      for (int a = 0; a < 3; ++a) fa[static_cast<int64_t>(i)][a] = m.faces[i][a];
    bank.add(v, f, grid_size);
    if (names) names->push_back(m.name);
  }
  return bank;
}

data::Fields DerenderStage::fields() const {
  data::Fields f;
  f.rgb = f.instance = f.objects = true;
  f.classes = f.depth = false;
  return f;
}

data::AugmentOptions DerenderStage::augment() const {
  // The frame is served as stored: the crops are jittered here, per object (datasets.py).
  data::AugmentOptions a;
  a.short_sides = {};
  a.flip = false;
  a.brightness = a.contrast = a.saturation = a.hue = 0;
  return a;
}

std::vector<std::string> DerenderStage::terms() const {
  std::vector<std::string> t = {"loss", "theta_delta_loss", "translation2d_loss", "scale_loss", "depth_loss"};
  if (full())
    for (const char* n : {"class_reward", "mask_loss", "ffd_coeff_reg"}) t.emplace_back(n);
  return t;
}

std::vector<data::Item> DerenderStage::object_items(const data::ShardSet& shards) {
  return data::object_items(shards, [](const data::shard::ObjectRow& o) {
    return (o.class_id == kCar || o.class_id == kVan) && dd::keep_for_training(o);
  });
}

std::shared_ptr<const std::vector<data::Item>> DerenderStage::items(const data::ShardSet& train) {
  auto items = std::make_shared<const std::vector<data::Item>>(object_items(train));
  if (items->empty())
    throw UsageError("the " + config_.data.split + " split of " + config_.data.shards +
                         " has no Car/Van object passing the derenderer's filters (box area > 16^2, truncation < 0.7, "
                         "occupancy > 0.3)",
                     "pack frames with larger vehicles (sdn synth --width/--height)");
  sampler_steps_per_epoch_ = static_cast<std::int64_t>(items->size()) / std::max<std::int64_t>(1, config_.train.global_batch);
  return items;
}

std::int64_t DerenderStage::epoch_of_step(std::int64_t step) const {
  return sampler_steps_per_epoch_ > 0 ? step / sampler_steps_per_epoch_ : 0;
}

DerenderBatch DerenderStage::make_batch(const std::vector<data::Sample>& samples, bool training,
                                        std::int64_t epoch) const {
  const int crop = options_.crop_size, mask = options_.mask_size;
  std::vector<float> images, rois, focals, td, t2, ls, ld, masks, ignores, trans, scales;
  DerenderBatch b;
  for (const auto& s : samples) {
    SDN_CHECK(s.object >= 0 && s.object < static_cast<int>(s.objects.size()), "derender: a sample without its object");
    const auto frame = frame_of(s);
    KeyedRng rng{config_.train.seed, kCropStream, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(s.item)};
    dd::ObjectCrop c;
    if (!dd::crop_object(frame, static_cast<size_t>(s.object), training ? &rng : nullptr, c, mask)) continue;
    if (training && options_.color_jitter > 0) {
      // torchvision 0.2 ColorJitter.get_params: the four factors, then a random order of the transforms.
      const double j = options_.color_jitter;
      const double br = rng.uniform(std::max(0.0, 1 - j), 1 + j), co = rng.uniform(std::max(0.0, 1 - j), 1 + j);
      const double sa = rng.uniform(std::max(0.0, 1 - j), 1 + j), hu = rng.uniform(-j, j);
      int order[4] = {0, 1, 2, 3};
      for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
      data::color_jitter(c.rgb, br, co, sa, hu, order);
    }
    const auto img = dd::normalise_crop(c.rgb, c.side, crop);
    images.insert(images.end(), img.begin(), img.end());
    const auto& t = c.targets;
    rois.insert(rois.end(), t.roi_norm.begin(), t.roi_norm.end());
    focals.push_back(static_cast<float>(s.K.fx));
    td.insert(td.end(), t.theta_delta.begin(), t.theta_delta.end());
    t2.insert(t2.end(), t.translation2d.begin(), t.translation2d.end());
    ls.insert(ls.end(), t.log_scale.begin(), t.log_scale.end());
    ld.push_back(t.log_depth);
    trans.insert(trans.end(), t.translation.begin(), t.translation.end());
    scales.insert(scales.end(), t.scale.begin(), t.scale.end());
    masks.insert(masks.end(), c.mask.begin(), c.mask.end());
    ignores.insert(ignores.end(), c.ignore.begin(), c.ignore.end());
    b.items.push_back(s.item);
  }
  const int64_t n = b.size();
  if (n == 0) return b;
  b.images = floats(images, {n, 3, crop, crop}).to(device_);
  b.roi_norms = floats(rois, {n, 4}).to(device_);
  b.focals = floats(focals, {n}).to(device_);
  b.targets.theta_deltas = floats(td, {n, 2}).to(device_);
  b.targets.translation2ds = floats(t2, {n, 2}).to(device_);
  b.targets.log_scales = floats(ls, {n, 3}).to(device_);
  b.targets.log_depths = floats(ld, {n, 1}).to(device_);
  b.translations = floats(trans, {n, 3}).to(device_);
  b.scales = floats(scales, {n, 3}).to(device_);
  b.masks = floats(masks, {n, 1, mask, mask}).to(device_);
  b.ignores = floats(ignores, {n, 1, mask, mask}).to(device_);
  return b;
}

DerenderBatch DerenderStage::crop_batch(const data::Sample& s, const std::vector<dd::Roi>& rois) const {
  const int crop = options_.crop_size;
  std::vector<float> images, norms, focals;
  DerenderBatch b;
  for (const auto& roi : rois) {
    int side = 0;
    const auto square = dd::crop_square(s.rgb, s.width, s.height, 3, roi, {127, 127, 127}, side);
    const auto img = dd::normalise_crop(square, side, crop);
    images.insert(images.end(), img.begin(), img.end());
    const auto rn = dd::roi_norm(roi, s.K);
    norms.insert(norms.end(), rn.begin(), rn.end());
    focals.push_back(static_cast<float>(s.K.fx));
    b.items.push_back(b.size());
  }
  const int64_t n = b.size();
  if (n == 0) return b;
  b.images = floats(images, {n, 3, crop, crop}).to(device_);
  b.roi_norms = floats(norms, {n, 4}).to(device_);
  b.focals = floats(focals, {n}).to(device_);
  return b;
}

DerenderForward DerenderStage::forward(const DerenderBatch& b, bool render, const std::vector<double>& uniforms) {
  DerenderForward f;
  md::roi_centre_size(b.roi_norms, f.mroi, f.droi);
  f.out = model_->decode(model_->forward(b.images, f.mroi, f.droi));
  if (!render) return f;
  const auto pose = md::decode_pose(f.out, f.mroi, f.droi);
  f.choice = md::choose_meshes(f.out, uniforms);
  const auto ro = md::ReprojectOptions()
                      .image_size(options_.mask_size)
                      .render_size(options_.render_size)
                      .silhouette(md::SilhouetteOptions().sigma(options_.sigma));
  f.reprojection = md::reproject(bank_, f.out, pose, f.choice, f.mroi, f.droi, b.focals, ro);
  f.rendered = true;
  return f;
}

LossTerms DerenderStage::loss(size_t, size_t, const std::vector<data::Sample>& samples) {
  const std::int64_t epoch = epoch_of_step(step_);
  const auto b = make_batch(samples, /*training=*/true, epoch);
  LossTerms l;
  if (b.size() == 0) {
    // Every object of this micro-batch lost its pixels (cannot happen for packed vKITTI): a zero loss that still
    // gives every parameter a (zero) gradient, so the reduction sees the usual tensors.
    torch::Tensor zero = torch::zeros({}, torch::TensorOptions().device(device_));
    for (auto& p : model_->parameters()) zero = zero + 0.0 * p.sum();
    l.total = zero;
    return l;
  }
  std::vector<double> uniforms;
  if (full())
    for (auto item : b.items)
      uniforms.push_back(KeyedRng{config_.train.seed, kMeshStream, static_cast<std::uint64_t>(epoch),
                                  static_cast<std::uint64_t>(item)}
                             .uniform());
  auto f = forward(b, full(), uniforms);
  auto terms = md::geometry_losses(f.out, b.targets);
  if (full()) {
    const auto per = md::mask_losses(f.reprojection.masks, b.masks, b.ignores, options_.mask_weight);
    for (auto& t : md::reprojection_losses(per, f.choice.log_probs, f.out.ffd_coeffs, options_.ffd_coeff_reg))
      terms.push_back(std::move(t));
  }
  l.total = md::total(terms);
  l.terms.emplace_back("loss", l.total.item<double>());
  for (const auto& [name, t] : terms) l.terms.emplace_back(name, t.item<double>());
  return l;
}

double DerenderStage::lr(size_t, std::int64_t step, std::int64_t total_steps) const {
  // bulb's TrainMixin steps StepLR after each epoch with scheduler.step(epoch=e), which sets the rate of epoch
  // e + 1 to base * rate^(e // step_size): epochs 0..step_size run at the base rate, then each step_size halves it.
  const std::int64_t per_epoch = std::max<std::int64_t>(1, total_steps / std::max<std::int64_t>(1, config_.train.epochs));
  const std::int64_t epoch = step / per_epoch;
  const std::int64_t decays = epoch == 0 ? 0 : (epoch - 1) / options_.lr_decay_epochs;
  return options_.lr * std::pow(options_.lr_decay_rate, static_cast<double>(decays));
}

void DerenderStage::enter_schedule(std::int64_t step, std::int64_t) {
  if (phases_.empty()) {
    Phase p;
    p.name = "model";
    p.params = trainable_parameters(*model_);
    std::vector<torch::Tensor> params;
    for (auto& [n, t] : p.params) params.push_back(t);
    p.optimizer = std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(options_.lr).weight_decay(options_.weight_decay));
    phases_.push_back(std::move(p));
  }
  // A fresh full run starts where the pretrain run ended; on resume the checkpoint overwrites all of it anyway.
  if (step == 0 && full() && !options_.pretrained.empty()) load_pretrained();
}

void DerenderStage::load_pretrained() {
  std::string path = options_.pretrained;
  if (!std::filesystem::exists(path))
    throw UsageError("derender.pretrained: " + path + " does not exist",
                     "point it at a `derender.mode = pretrain` run directory or its RUN/ckpt/step-*.h5");
  // A run directory stands for its newest checkpoint that verifies (what `sdn pipeline` passes: the pretrain
  // stage's run, whose final step is not known when the pipeline is planned).
  if (std::filesystem::is_directory(path)) {
    auto newest = ckpt::Store(path + "/ckpt").newest_valid();
    if (!newest)
      throw UsageError("derender.pretrained: the run " + path + " has no checkpoint",
                       "train the pretrain run first (or point at one of its RUN/ckpt/step-*.h5)");
    path = newest->path;
  }
  auto c = ckpt::read_checkpoint(path);
  if (c.meta.stage != name())
    throw UsageError("derender.pretrained: " + path + " is a '" + c.meta.stage + "' checkpoint",
                     "point it at a checkpoint of a derender pretrain run");
  const bool pretrain = std::find(c.meta.config.begin(), c.meta.config.end(), "derender.mode = pretrain") != c.meta.config.end();
  if (!pretrain && rank_ == 0)
    spdlog::warn("derender.pretrained: {} was not written by a pretrain run; starting from it anyway", path);
  // Model and Adam state by parameter name, as the original's train_net.load(ckpt_dir) restores both.
  restore_state(*this, c.tensors, path, /*optimiser=*/true);
  if (rank_ == 0) spdlog::info("full mode starts from {} (step {}): model and optimiser state", path, c.meta.step);
}

StageSpec derender_stage_spec() {
  StageSpec s;
  s.name = "derender";
  s.summary = "3D derenderer (ResNet-18 -> 3D attributes, mesh, FFD): pretrain or full (reprojection)";
  s.default_options = DerenderOptions{};
  s.add_options = add_derender_options;
  s.validate = validate_derender;
  s.validate_for_world = validate_derender_for_world;
  // pretrained: read at step 0 only (like model.init_weights), the run's math is then in its own checkpoints;
  // the others only steer eval/predict, and `sdn predict` may override them (cli/run_setup.hpp).
  s.resume_neutral_keys = {"derender.pretrained", "derender.eval_render", "derender.predict_boxes",
                           "derender.detections"};
  s.make = [](const TrainConfig& c, const StageContext& ctx) -> std::unique_ptr<Stage> {
    return std::make_unique<DerenderStage>(c, ctx);
  };
  return s;
}

}  // namespace sdn::train

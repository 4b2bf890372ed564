// Implements the textural-branch stage (see textural_stage.hpp): construction, the data pipeline, the two
// phases and the schedule. Evaluation and prediction are in textural_predict.cpp.
#include "train/stages/textural_stage.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/augment.hpp"
#include "data/image_io.hpp"
#include "data/pil_ops.hpp"
#include "data/vkitti.hpp"
#include "models/textural/textural_inputs.hpp"
#include "models/textural/textural_schedule.hpp"
#include "train/init_weights.hpp"

namespace sdn::train {
namespace {

namespace tx = models::textural;

constexpr std::uint64_t kCropStream = 0x7e87c;  // the stage's own stream next to the loader's augmentation

tx::TexturalNetsOptions nets_options(const TexturalOptions& o, std::uint64_t seed) {
  tx::TexturalNetsOptions n;
  n.ngf = o.ngf, n.n_downsample_global = o.n_downsample_global, n.n_blocks_global = o.n_blocks_global;
  n.feat_num = o.feat_num, n.nef = o.nef, n.n_downsample_E = o.n_downsample_E;
  n.ndf = o.ndf, n.n_layers_D = o.n_layers_D, n.num_D = o.num_D;
  n.use_vgg = o.vgg_loss;
  n.vgg_weights = o.vgg_weights;
  n.seed = seed;
  return n;
}

// A derenderer prediction file, or one clear error naming it.
std::string geometric_file(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw UsageError("textural.geometric_dir: " + path + " does not exist",
                     "run `sdn predict --out DIR` of a derenderer run on the same shards and split, and set "
                     "textural.geometric_dir = DIR");
  return path;
}

void check_frame_size(const std::string& path, int w, int h, int fw, int fh) {
  if (w != fw || h != fh)
    throw UsageError("textural.geometric_dir: " + path + " is " + std::to_string(w) + "x" + std::to_string(h) +
                         ", the frame " + std::to_string(fw) + "x" + std::to_string(fh),
                     "use the `sdn predict` output of a derenderer run on the same shards");
}

template <class T>
std::vector<T> crop_plane(const std::vector<T>& src, int w, int x0, int y0, int cw, int ch, int channels = 1) {
  std::vector<T> out(static_cast<size_t>(cw) * ch * channels);
  for (int y = 0; y < ch; ++y) {
    const auto* row = &src[(static_cast<size_t>(y0 + y) * w + x0) * channels];
    std::copy(row, row + static_cast<size_t>(cw) * channels, &out[static_cast<size_t>(y) * cw * channels]);
  }
  return out;
}

}  // namespace

TexturalStage::TexturalStage(const TrainConfig& config, const StageContext& context)
    : config_(config), options_(stage_options<TexturalOptions>(config)), device_(context.device),
      nets_(nets_options(options_, config.train.seed)) {
  // model.init_weights = netG=FILE,netE=FILE,netD=FILE: the original's latest_net_{G,E,D}.pth via pth_to_h5.py.
  for (const auto& r : import_initial_weights(modules(), [this](const std::string& m) { return weights_name(m); },
                                              config.init))
    if (context.rank == 0) spdlog::info("{}", r);
  nets_.to(device_);
  nets_.train();
  loss_options_.lambda_feat = options_.lambda_feat;
  loss_options_.lambda_l1 = options_.lambda_l1;
  loss_options_.gan_feat = options_.gan_feat;
  const auto& o = options_;
  auto adam = [&](std::vector<torch::Tensor> params) {
    return std::make_unique<torch::optim::Adam>(
        std::move(params), torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
  };
  // G then E in one optimiser, as the original's optimizer_G (list(netG.parameters()) + list(netE.parameters())).
  Phase g;
  g.name = "G";
  g.params = trainable_parameters(*nets_.netG, "netG.");
  for (auto& p : trainable_parameters(*nets_.netE, "netE.")) g.params.push_back(p);
  g.optimizer = adam(nets_.generator_parameters());
  phases_.push_back(std::move(g));
  Phase d;
  d.name = "D";
  d.params = trainable_parameters(*nets_.netD, "netD.");
  d.optimizer = adam(nets_.discriminator_parameters());
  phases_.push_back(std::move(d));
  if (o.inputs == "groundtruth" && o.gt_normals) {
    GroundTruthNormalsOptions no;
    no.meshes = o.meshes, no.car_mesh = o.car_mesh, no.van_mesh = o.van_mesh;
    gt_normals_ = std::make_unique<GroundTruthNormals>(no);
  }
  if (context.rank == 0 && o.inputs == "groundtruth") {
    const std::string meshes = o.meshes.empty() ? std::string("sdn's generated vehicle meshes") : o.meshes;
    spdlog::info("textural inputs: ground-truth labels, instances and poses from the shards; {}",
                 gt_normals_ ? "normals of " + meshes + " at the motgt poses" : std::string("normals are zeros"));
  }
  if (context.rank == 0 && o.inputs == "predicted")
    spdlog::info("textural inputs: predicted labels from {}; {}", o.semantic_dir,
                 o.geometric_dir.empty() ? std::string("no geometric_dir: instances = labels, poses and normals zero")
                                         : "instances, poses and normals from " + o.geometric_dir);
}

data::Fields TexturalStage::fields() const {
  data::Fields f;
  f.rgb = true;
  f.classes = options_.inputs == "groundtruth";
  f.instance = options_.inputs == "groundtruth";
  f.objects = options_.inputs == "groundtruth";
  f.depth = false;
  return f;
}

data::AugmentOptions TexturalStage::augment() const {
  // The loader only jitters the real image, on the full frame as the original (before its scale and crop);
  // the stage scales, crops and flips all planes together.
  data::AugmentOptions a;
  a.short_sides = {};
  a.flip = false;
  a.pad_to = 1;
  a.brightness = options_.brightness;
  a.contrast = options_.contrast;
  a.saturation = options_.saturation;
  a.hue = options_.hue;
  return a;
}

std::vector<std::pair<std::string, torch::nn::Module*>> TexturalStage::modules() {
  return {{"netG", nets_.netG.get()}, {"netE", nets_.netE.get()}, {"netD", nets_.netD.get()}};
}

std::vector<std::string> TexturalStage::terms() const {
  return {"G/l1", "G/gan", "G/feat", "G/vgg", "D/real", "D/fake"};
}

std::shared_ptr<const std::vector<data::Item>> TexturalStage::items(const data::ShardSet& train) {
  if (options_.inputs == "predicted") {
    train_info_.clear();
    for (std::int64_t i = 0; i < train.size(); ++i) train_info_.push_back(train.info(i));
  }
  return nullptr;
}

TexturalPlanes TexturalStage::planes(const data::Sample& s, const data::SampleInfo* info, KeyedRng* rng) const {
  return scale_and_crop(frame_planes(s, info), rng);
}

std::vector<std::uint8_t> TexturalStage::frame_labels(const data::Sample& s, const data::SampleInfo* info,
                                                     const std::string& semantic_dir) const {
  const auto& o = options_;
  std::vector<std::uint8_t> labels(static_cast<size_t>(s.width) * s.height);
  if (o.inputs == "groundtruth") {
    // Category ids as the original's label maps (semantic prediction + 1): Misc and unlabelled pixels -> 0.
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = s.classes[i] == data::kUnlabelled ? 0 : s.classes[i];
    return labels;
  }
  SDN_CHECK(info != nullptr, "textural: predicted inputs need the sample's identity");
  const std::string key = semantic_dir.empty() ? "textural.semantic_dir" : "--semantic";
  char name[32];
  std::snprintf(name, sizeof name, "%05d.png", info->frame);
  const std::string path = (semantic_dir.empty() ? o.semantic_dir : semantic_dir) + "/" + info->world + "/" +
                           info->variation + "/" + name;
  if (!std::filesystem::exists(path))
    throw UsageError(key + ": " + path + " does not exist",
                     "run `sdn predict --out DIR` of a semantic run on the same shards and split, and set " + key +
                         (semantic_dir.empty() ? " = DIR" : " DIR"));
  auto png = data::img::read_png_indices(path);
  if (png.width != s.width || png.height != s.height)
    throw UsageError(key + ": " + path + " is " + std::to_string(png.width) + "x" + std::to_string(png.height) +
                         ", the frame " + std::to_string(s.width) + "x" + std::to_string(s.height),
                     "use the `sdn predict` output of a semantic run on the same shards");
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::uint8_t>(png.pixels[i] + 1);
  return labels;
}

TexturalPlanes TexturalStage::frame_planes(const data::Sample& s, const data::SampleInfo* info) const {
  const auto& o = options_;
  TexturalPlanes p;
  const int w = s.width, h = s.height;
  p.width = w, p.height = h;
  p.rgb = s.rgb;
  p.labels = frame_labels(s, info);
  auto& objects = p.objects;
  auto& normals = p.normals;
  if (o.inputs == "groundtruth") {
    objects = s.instance;
    for (const auto& ob : s.objects) p.alpha_of[ob.track_id + 1] = ob.alpha;
    if (gt_normals_) normals = gt_normals_->render(s);  // full frame, then scaled and cropped as a predicted map
  } else {
    char name[32];
    std::snprintf(name, sizeof name, "%05d.png", info->frame);
    if (o.geometric_dir.empty()) {
      p.objects_are_labels = true;  // no geometric map: instance = label, no poses (the original's fallback)
    } else {
      // vkitti_dataset.py with inst_precomputed_path, feat_pose and feat_normal all set to the derenderer's
      // output: its instance map (row + 1, 0 = none), each object's alpha from the JSON (keyed by the same
      // value) and the RGB normal map.
      const std::string base = o.geometric_dir + "/" + info->world + "/" + info->variation + "/" +
                               std::string(name).substr(0, std::strlen(name) - 4);  // NNNNN without .png
      const auto inst_path = geometric_file(base + ".png");
      auto inst = data::img::read_png_indices(inst_path);
      check_frame_size(inst_path, inst.width, inst.height, w, h);
      objects.assign(inst.pixels.begin(), inst.pixels.end());
      const auto json_path = geometric_file(base + ".json");
      nlohmann::json d;
      try {
        d = nlohmann::json::parse(fs::read_file(json_path));
        for (auto it = d.begin(); it != d.end(); ++it)
          p.alpha_of[std::stoll(it.key())] = it.value().at("alpha").get<double>();
      } catch (const std::exception& e) {
        throw UsageError("textural.geometric_dir: " + json_path + " is not a derenderer prediction: " + e.what(),
                         "it must map instance values to objects with an \"alpha\" (docs/data-format.md)");
      }
      const auto normal_path = geometric_file(base + "-normal.png");
      auto normal = data::img::read_png_rgb8(normal_path);
      check_frame_size(normal_path, normal.width, normal.height, w, h);
      normals = std::move(normal.pixels);
    }
  }
  return p;
}

TexturalPlanes TexturalStage::scale_and_crop(TexturalPlanes frame, KeyedRng* rng) const {
  const auto& o = options_;
  TexturalPlanes p;
  p.objects_are_labels = frame.objects_are_labels;
  p.alpha_of = std::move(frame.alpha_of);
  int w = frame.width, h = frame.height;
  std::vector<std::uint8_t> rgb = std::move(frame.rgb), labels = std::move(frame.labels);
  std::vector<std::uint16_t> objects = std::move(frame.objects);
  std::vector<std::uint8_t> normals = std::move(frame.normals);
  // scale_width: loadSize * h // w, with the original's 188 -> 192 hack.
  if (o.load_width > 0 && o.load_width != w) {
    const int ow = o.load_width;
    int oh = static_cast<int>(static_cast<std::int64_t>(ow) * h / w);
    if (oh == 188) oh = 192;
    rgb = data::resize_pil_bicubic_rgb(rgb, w, h, ow, oh);  // get_transform's default: BICUBIC
    labels = data::resize_nearest(labels, w, h, ow, oh);
    if (!objects.empty()) objects = data::resize_nearest(objects, w, h, ow, oh);
    // The normal map goes through the image's transform (transform_B: bicubic), as the original.
    if (!normals.empty()) normals = data::resize_pil_bicubic_rgb(normals, w, h, ow, oh);
    w = ow, h = oh;
  }
  const int cw = o.crop_width, ch = o.crop_height;
  if (cw > w || ch > h)
    throw UsageError("textural.crop_width/crop_height: a " + std::to_string(cw) + "x" + std::to_string(ch) +
                         " crop does not fit the scaled " + std::to_string(w) + "x" + std::to_string(h) + " frame",
                     "lower the crop or raise textural.load_width");
  // get_params: random.randint(0, w - cw) (inclusive) then y, then the flip; centred for test.
  int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
  bool flip = false;
  if (rng) {
    x0 = static_cast<int>(rng->below(static_cast<std::uint64_t>(w - cw + 1)));
    y0 = static_cast<int>(rng->below(static_cast<std::uint64_t>(h - ch + 1)));
    flip = o.flip && rng->uniform() > 0.5;
  }
  p.width = cw, p.height = ch;
  p.rgb = crop_plane(rgb, w, x0, y0, cw, ch, 3);
  p.labels = crop_plane(labels, w, x0, y0, cw, ch);
  if (!objects.empty()) p.objects = crop_plane(objects, w, x0, y0, cw, ch);
  else p.objects.assign(static_cast<size_t>(cw) * ch, 0);
  if (!normals.empty()) p.normals = crop_plane(normals, w, x0, y0, cw, ch, 3);
  if (flip) {
    // The original flips the maps but keeps each object's alpha from its JSON: the pose bins are not mirrored.
    data::flip_horizontal(p.rgb, cw, ch, 3);
    data::flip_horizontal(p.labels, cw, ch);
    data::flip_horizontal(p.objects, cw, ch);
    if (!p.normals.empty()) data::flip_horizontal(p.normals, cw, ch, 3);  // mirrored image, normals kept as read
  }
  return p;
}

tx::TexturalBatch TexturalStage::batch(const std::vector<TexturalPlanes>& planes) const {
  SDN_CHECK(!planes.empty(), "textural: empty batch");
  const int64_t n = static_cast<int64_t>(planes.size()), h = planes[0].height, w = planes[0].width;
  auto labels = torch::empty({n, 1, h, w}, torch::kLong), objects = torch::empty({n, 1, h, w}, torch::kLong);
  auto rgb = torch::empty({n, h, w, 3}, torch::kUInt8);
  std::vector<std::map<int64_t, double>> alpha_of;
  for (int64_t b = 0; b < n; ++b) {
    const auto& p = planes[static_cast<size_t>(b)];
    auto* L = labels[b].data_ptr<int64_t>();
    auto* O = objects[b].data_ptr<int64_t>();
    for (int64_t i = 0; i < h * w; ++i) L[i] = p.labels[static_cast<size_t>(i)], O[i] = p.objects[static_cast<size_t>(i)];
    std::copy(p.rgb.begin(), p.rgb.end(), rgb[b].data_ptr<std::uint8_t>());
    alpha_of.push_back(p.alpha_of);
  }
  tx::TexturalBatch out;
  if (planes[0].objects_are_labels) {
    out.labels = labels;
    out.instances = labels.to(torch::kFloat);
    out.pose = torch::zeros_like(labels);
  } else {
    auto li = tx::compose_label_and_instances(labels - 1, objects);
    out.labels = li.labels;
    out.instances = li.instances;
    out.pose = tx::pose_bins(objects, alpha_of);
  }
  if (planes[0].normals.empty()) {
    out.normals = torch::zeros({n, 3, h, w});  // the original's zeros for a frame without a normal map
  } else {
    auto nrgb = torch::empty({n, h, w, 3}, torch::kUInt8);
    for (int64_t b = 0; b < n; ++b) {
      const auto& p = planes[static_cast<size_t>(b)];
      SDN_CHECK(p.normals.size() == static_cast<size_t>(h * w * 3),
                "textural: a batch mixes frames with and without normals");
      std::copy(p.normals.begin(), p.normals.end(), nrgb[b].data_ptr<std::uint8_t>());
    }
    out.normals = tx::normal_channels(nrgb.permute({0, 3, 1, 2}));
  }
  // ToTensor then Normalize(0.5, 0.5).
  out.real = (rgb.permute({0, 3, 1, 2}).to(torch::kFloat) / 255.0 - 0.5) / 0.5;
  out.labels = out.labels.to(device_);
  out.instances = out.instances.to(device_);
  out.pose = out.pose.to(device_);
  out.normals = out.normals.to(device_);
  out.real = out.real.contiguous().to(device_);
  return out;
}

void TexturalStage::begin_step(std::int64_t step) {
  step_ = step;
  cached_.clear();
}

LossTerms TexturalStage::loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) {
  LossTerms l;
  if (phase == 0) {
    std::vector<TexturalPlanes> ps;
    for (const auto& s : samples) {
      KeyedRng rng({config_.train.seed, kCropStream, static_cast<std::uint64_t>(step_),
                    static_cast<std::uint64_t>(s.item)});
      const data::SampleInfo* info =
          options_.inputs == "predicted" ? &train_info_.at(static_cast<size_t>(s.index)) : nullptr;
      ps.push_back(planes(s, info, &rng));
    }
    auto b = batch(ps);
    auto gen = nets_.generate(b);
    auto* vgg = nets_.vgg.is_empty() ? nullptr : nets_.vgg.get();
    auto t = tx::textural_losses(*nets_.netD, vgg, gen.label_edges, gen.fake, b.real, loss_options_);
    if (cached_.size() <= micro) cached_.resize(micro + 1);
    cached_[micro] = t;  // phase D's terms: the fake made before the G step, detached
    l.total = t.g_total();
    for (auto& [name, v] : t.named())
      if (name.rfind("G/", 0) == 0) l.terms.emplace_back(name, v.item<double>());
  } else {
    SDN_CHECK(micro < cached_.size() && cached_[micro].d_real.defined(), "textural: phase D before phase G");
    const auto& t = cached_[micro];
    l.total = t.d_total();
    l.terms = {{"D/real", t.d_real.item<double>()}, {"D/fake", t.d_fake.item<double>()}};
  }
  return l;
}

double TexturalStage::lr(size_t, std::int64_t step, std::int64_t total_steps) const {
  // Epochs are train.epochs equal parts of the run (validate: niter + niter_decay = train.epochs).
  const std::int64_t per_epoch = std::max<std::int64_t>(1, total_steps / std::max<std::int64_t>(1, config_.train.epochs));
  return tx::textural_learning_rate(options_.lr, step / per_epoch, options_.niter, options_.niter_decay);
}

StageSpec textural_stage_spec() {
  StageSpec s;
  s.name = "textural";
  s.summary = "textural branch: pix2pixHD generator, instance encoder and multi-scale discriminator (GAN)";
  s.default_options = TexturalOptions{};
  s.add_options = add_textural_options;
  s.validate = validate_textural;
  // Input locations: the same maps wherever they live (the digest still covers textural.inputs).
  s.resume_neutral_keys = {"textural.semantic_dir", "textural.geometric_dir", "textural.vgg_weights",
                           "textural.meshes"};
  s.make = [](const TrainConfig& c, const StageContext& ctx) -> std::unique_ptr<Stage> {
    return std::make_unique<TexturalStage>(c, ctx);
  };
  return s;
}

}  // namespace sdn::train

// Implements the textural stage's config keys and validation (see textural_options.hpp).
#include "train/stages/textural_options.hpp"

#include "core/error.hpp"
#include "train/init_weights.hpp"

namespace sdn::train {
namespace {

TexturalOptions& to(TrainConfig& c) { return stage_options<TexturalOptions>(c); }

}  // namespace

void add_textural_options(opt::Schema<TrainConfig>& s) {
  using C = TrainConfig;
  s.add("textural.inputs", "where labels, instances and poses come from",
        [](C& c) -> auto& { return to(c).inputs; }, opt::Choices{"groundtruth", "predicted"})
      .add("textural.semantic_dir", "predicted: label PNGs of a semantic run's `sdn predict --out`",
           [](C& c) -> auto& { return to(c).semantic_dir; })
      .add("textural.geometric_dir", "predicted: a derenderer run's `sdn predict --out` (instances, poses, normals)",
           [](C& c) -> auto& { return to(c).geometric_dir; })
      .add("textural.gt_normals", "groundtruth: render normal maps of meshes at the motgt poses (false: zeros)",
           [](C& c) -> auto& { return to(c).gt_normals; })
      .add("textural.meshes", "groundtruth normals: directory of the derenderer's 8 .obj meshes (empty: generated)",
           [](C& c) -> auto& { return to(c).meshes; })
      .add("textural.car_mesh", "groundtruth normals: mesh index (name order) rendered for Car",
           [](C& c) -> auto& { return to(c).car_mesh; }, opt::Range{0, 7})
      .add("textural.van_mesh", "groundtruth normals: mesh index (name order) rendered for Van",
           [](C& c) -> auto& { return to(c).van_mesh; }, opt::Range{0, 7})
      .add("textural.vgg_loss", "VGG-19 perceptual loss (needs textural.vgg_weights)",
           [](C& c) -> auto& { return to(c).vgg_loss; })
      .add("textural.vgg_weights", "HDF5 VGG-19 (torchvision vgg19-dcbb9e9d.pth via scripts/pth_to_h5.py)",
           [](C& c) -> auto& { return to(c).vgg_weights; })
      .add("textural.lambda_feat", "weight of feature matching and VGG", [](C& c) -> auto& { return to(c).lambda_feat; },
           opt::Range{0, 1000})
      .add("textural.lambda_l1", "weight of the L1 reconstruction", [](C& c) -> auto& { return to(c).lambda_l1; },
           opt::Range{0, 1000})
      .add("textural.gan_feat", "discriminator feature-matching loss", [](C& c) -> auto& { return to(c).gan_feat; })
      .add("textural.ngf", "generator width", [](C& c) -> auto& { return to(c).ngf; }, opt::Range{1, 1024})
      .add("textural.n_downsample_global", "generator downsamplings",
           [](C& c) -> auto& { return to(c).n_downsample_global; }, opt::Range{1, 8})
      .add("textural.n_blocks_global", "generator residual blocks", [](C& c) -> auto& { return to(c).n_blocks_global; },
           opt::Range{0, 64})
      .add("textural.feat_num", "instance feature channels", [](C& c) -> auto& { return to(c).feat_num; },
           opt::Range{1, 64})
      .add("textural.nef", "encoder width", [](C& c) -> auto& { return to(c).nef; }, opt::Range{1, 1024})
      .add("textural.n_downsample_E", "encoder downsamplings", [](C& c) -> auto& { return to(c).n_downsample_E; },
           opt::Range{1, 8})
      .add("textural.ndf", "discriminator width", [](C& c) -> auto& { return to(c).ndf; }, opt::Range{1, 1024})
      .add("textural.n_layers_D", "discriminator layers", [](C& c) -> auto& { return to(c).n_layers_D; },
           opt::Range{1, 8})
      .add("textural.num_D", "discriminator scales", [](C& c) -> auto& { return to(c).num_D; }, opt::Range{1, 8})
      .add("textural.lr", "Adam learning rate of both optimisers", [](C& c) -> auto& { return to(c).lr; },
           opt::Range{0, 10})
      .add("textural.beta1", "Adam beta1", [](C& c) -> auto& { return to(c).beta1; }, opt::Range{0, 1})
      .add("textural.beta2", "Adam beta2", [](C& c) -> auto& { return to(c).beta2; }, opt::Range{0, 1})
      .add("textural.niter", "epochs at the base rate", [](C& c) -> auto& { return to(c).niter; }, opt::Range{0, 100000})
      .add("textural.niter_decay", "epochs of linear decay after niter", [](C& c) -> auto& { return to(c).niter_decay; },
           opt::Range{1, 100000})
      .add("textural.load_width", "scale the width to this before cropping (0: keep)",
           [](C& c) -> auto& { return to(c).load_width; }, opt::Range{0, 100000})
      .add("textural.crop_width", "crop width (random in training, centre in eval/predict)",
           [](C& c) -> auto& { return to(c).crop_width; }, opt::Range{4, 100000})
      .add("textural.crop_height", "crop height", [](C& c) -> auto& { return to(c).crop_height; },
           opt::Range{4, 100000})
      .add("textural.flip", "random horizontal flip", [](C& c) -> auto& { return to(c).flip; })
      .add("textural.brightness", "colour jitter of the real image", [](C& c) -> auto& { return to(c).brightness; },
           opt::Range{0, 1})
      .add("textural.contrast", "colour jitter", [](C& c) -> auto& { return to(c).contrast; }, opt::Range{0, 1})
      .add("textural.saturation", "colour jitter", [](C& c) -> auto& { return to(c).saturation; }, opt::Range{0, 1})
      .add("textural.hue", "colour jitter", [](C& c) -> auto& { return to(c).hue; }, opt::Range{0, 0.5});
}

std::vector<std::string> validate_textural(const TrainConfig& c) {
  const auto& o = stage_options<TexturalOptions>(c);
  std::vector<std::string> e;
  if (o.vgg_loss && o.vgg_weights.empty())
    e.push_back("textural.vgg_weights: not set but textural.vgg_loss is on (convert torchvision's "
                "vgg19-dcbb9e9d.pth with scripts/pth_to_h5.py --model vgg19, or set textural.vgg_loss = false)");
  if (o.niter + o.niter_decay != c.train.epochs)
    e.push_back("textural.niter + textural.niter_decay = " + std::to_string(o.niter + o.niter_decay) +
                " must equal train.epochs = " + std::to_string(c.train.epochs));
  const int g = 1 << o.n_downsample_global, en = 1 << o.n_downsample_E;
  const int m = std::max(g, en);
  if (o.crop_width % m != 0 || o.crop_height % m != 0)
    e.push_back("textural.crop_width/crop_height: " + std::to_string(o.crop_width) + "x" + std::to_string(o.crop_height) +
                " must be multiples of " + std::to_string(m) + " (2^downsamplings of G and E)");
  if (o.inputs == "predicted" && o.semantic_dir.empty())
    e.push_back("textural.semantic_dir: textural.inputs = predicted needs a semantic run's `sdn predict --out` directory");
  if (o.inputs == "predicted" && !o.meshes.empty())
    e.push_back("textural.meshes: only read with textural.inputs = groundtruth (predicted normals come from "
                "textural.geometric_dir); leave it empty");
  if (o.inputs == "groundtruth" && !o.geometric_dir.empty())
    e.push_back("textural.geometric_dir: only read with textural.inputs = predicted; set that or leave it empty");
  try {
    initial_weight_files(c.init.weights, {"netG", "netE", "netD"});
  } catch (const UsageError& err) {
    e.push_back(err.message() + " (" + err.hint() + ")");
  }
  return e;
}

}  // namespace sdn::train

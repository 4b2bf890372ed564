// Implements MaskRcnn (see mask_rcnn.hpp): the original's predict() in 'training' and 'inference' modes,
// for a batch of images whose second stage runs once over every image's RoIs.
#include "models/maskrcnn/mask_rcnn.hpp"

#include <cmath>

#include "core/error.hpp"
#include "models/init.hpp"
#include "models/maskrcnn/anchors.hpp"
#include "models/maskrcnn/frozen_batchnorm.hpp"
#include "models/maskrcnn/targets.hpp"

namespace sdn::models::maskrcnn {
namespace {

std::vector<torch::Tensor> first4(const std::vector<torch::Tensor>& levels) {
  return {levels.begin(), levels.begin() + 4};
}

}  // namespace

MaskRcnnImpl::MaskRcnnImpl(const MaskRcnnOptions& options) : options_(options) {
  auto problems = validate(options_);
  if (!problems.empty()) {
    std::string text = "Mask R-CNN options:";
    for (const auto& p : problems) text += "\n  " + p;
    throw UsageError(text);
  }
  const int64_t s = options_.image_size();
  fpn = register_module("fpn", Fpn(options_.resnet_layers, 256));
  rpn = register_module("rpn",
                        Rpn(static_cast<int64_t>(options_.rpn_anchor_ratios.size()), options_.rpn_anchor_stride, 256));
  classifier = register_module("classifier", Classifier(256, options_.pool_size, s, options_.num_classes));
  mask = register_module("mask", MaskHead(256, options_.mask_pool_size, s, options_.num_classes));
  init_weights();
}

void MaskRcnnImpl::init_weights() {
  torch::NoGradGuard no_grad;
  auto gen = init::make_generator(options_.seed);
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) {
      const auto& w = conv->weight;
      conv->weight.normal_(0.0, std::sqrt(2.0 / static_cast<double>(w.size(2) * w.size(3) * w.size(0))), gen);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = dynamic_cast<FrozenBatchNorm2dImpl*>(m.get())) {
      bn->reset_parameters();
    } else if (auto* lin = dynamic_cast<torch::nn::LinearImpl*>(m.get())) {
      lin->weight.normal_(0.0, 0.01, gen);
      lin->bias.zero_();
    } else if (auto* deconv = dynamic_cast<torch::nn::ConvTranspose2dImpl*>(m.get())) {
      // torch's default: U(+-1/sqrt(fan_in)), fan_in = weight.size(1) * k * k for a transposed conv.
      const auto& w = deconv->weight;
      const double bound = 1.0 / std::sqrt(static_cast<double>(w.size(1) * w.size(2) * w.size(3)));
      deconv->weight.uniform_(-bound, bound, gen);
      deconv->bias.uniform_(-bound, bound, gen);
    }
  }
}

const torch::Tensor& MaskRcnnImpl::anchors(const torch::Device& device) {
  if (!anchors_.defined() || anchors_.device() != device) anchors_ = generate_pyramid_anchors(options_).to(device);
  return anchors_;
}

MaskRcnnLosses MaskRcnnImpl::forward_train(const torch::Tensor& images, const std::vector<MaskRcnnGt>& gt,
                                           std::vector<at::Generator>& gens) {
  const int64_t b = images.size(0), s = options_.image_size();
  TORCH_CHECK(images.dim() == 4 && images.size(2) == s && images.size(3) == s,
              "MaskRcnn::forward_train: images must be [B, 3, ", s, ", ", s, "]");
  TORCH_CHECK(static_cast<int64_t>(gt.size()) == b && static_cast<int64_t>(gens.size()) == b,
              "MaskRcnn::forward_train: one ground truth and one generator per image");
  const auto dev = images.device();
  auto levels = fpn->forward(images);
  auto out = rpn_over_levels(rpn, levels);
  const auto& anc = anchors(dev);
  TORCH_CHECK(out.logits.size(1) == anc.size(0), "MaskRcnn: ", out.logits.size(1), " RPN outputs for ", anc.size(0),
              " anchors");

  std::vector<DetectionTargets> targets;
  std::vector<torch::Tensor> rois, ind;
  for (int64_t i = 0; i < b; ++i) {
    auto proposals =
        proposal_layer(out.probs[i].select(1, 1), out.deltas[i], anc, options_.post_nms_rois_training, options_);
    auto boxes = gt[i].boxes.to(dev, torch::kFloat) / static_cast<double>(s);
    targets.push_back(detection_targets(proposals, gt[i].class_ids.to(dev), boxes, gt[i].masks.to(dev, torch::kFloat),
                                        options_, gens[i]));
    rois.push_back(targets.back().rois);
    ind.push_back(torch::full({targets.back().rois.size(0)}, i, torch::dtype(torch::kLong).device(dev)));
  }
  auto all_rois = torch::cat(rois);
  ClassifierOutput cls;
  torch::Tensor masks;
  if (all_rois.size(0) > 0) {
    auto feats = first4(levels);
    auto all_ind = torch::cat(ind);
    cls = classifier->forward(feats, all_rois, all_ind);
    masks = mask->forward(feats, all_rois, all_ind);
  }

  MaskRcnnLosses sum;
  int64_t offset = 0;
  for (int64_t i = 0; i < b; ++i) {
    const int64_t r = targets[i].rois.size(0);
    MaskRcnnLosses l;
    auto match = gt[i].rpn_match.to(dev);
    l.rpn_class = rpn_class_loss(match, out.logits[i]);
    l.rpn_bbox = rpn_bbox_loss(gt[i].rpn_bbox.to(dev, torch::kFloat), match, out.deltas[i]);
    if (r > 0) {
      l.mrcnn_class = mrcnn_class_loss(targets[i].class_ids, cls.logits.slice(0, offset, offset + r));
      l.mrcnn_bbox = mrcnn_bbox_loss(targets[i].deltas, targets[i].class_ids, cls.deltas.slice(0, offset, offset + r));
      l.mrcnn_mask = mrcnn_mask_loss(targets[i].masks, targets[i].class_ids, masks.slice(0, offset, offset + r));
    } else {
      l.mrcnn_class = l.mrcnn_bbox = l.mrcnn_mask = torch::zeros({}, images.options());
    }
    offset += r;
    if (i == 0) {
      sum = l;
    } else {
      sum.rpn_class = sum.rpn_class + l.rpn_class;
      sum.rpn_bbox = sum.rpn_bbox + l.rpn_bbox;
      sum.mrcnn_class = sum.mrcnn_class + l.mrcnn_class;
      sum.mrcnn_bbox = sum.mrcnn_bbox + l.mrcnn_bbox;
      sum.mrcnn_mask = sum.mrcnn_mask + l.mrcnn_mask;
    }
  }
  const double inv = 1.0 / static_cast<double>(b);
  MaskRcnnLosses mean{sum.rpn_class * inv, sum.rpn_bbox * inv, sum.mrcnn_class * inv, sum.mrcnn_bbox * inv,
                      sum.mrcnn_mask * inv};
  for (const auto& t : targets) mean.rois_per_image.push_back(t.rois.size(0));
  return mean;
}

std::vector<Detections> MaskRcnnImpl::detect(const torch::Tensor& images, const std::vector<ImageWindow>& windows) {
  torch::NoGradGuard no_grad;
  const int64_t b = images.size(0), s = options_.image_size();
  TORCH_CHECK(static_cast<int64_t>(windows.size()) == b, "MaskRcnn::detect: one window per image");
  const auto dev = images.device();
  auto levels = fpn->forward(images);
  auto feats = first4(levels);
  auto out = rpn_over_levels(rpn, levels);
  const auto& anc = anchors(dev);
  std::vector<Detections> result;
  for (int64_t i = 0; i < b; ++i) {
    auto proposals =
        proposal_layer(out.probs[i].select(1, 1), out.deltas[i], anc, options_.post_nms_rois_inference, options_);
    auto ind = torch::full({proposals.size(0)}, i, torch::dtype(torch::kLong).device(dev));
    auto cls = classifier->forward(feats, proposals, ind);
    const auto& w = windows[i].window;
    auto d = refine_detections(
        proposals, cls.probs, cls.deltas,
        {static_cast<double>(w[0]), static_cast<double>(w[1]), static_cast<double>(w[2]), static_cast<double>(w[3])},
        options_);
    const int64_t n = d.boxes.size(0);
    if (n == 0) {
      d.masks = torch::zeros({0, options_.mask_shape[0], options_.mask_shape[1]}, images.options());
    } else {
      auto m = mask->forward(feats, d.boxes / static_cast<double>(s),
                             torch::full({n}, i, torch::dtype(torch::kLong).device(dev)));
      d.masks = m.index({torch::arange(n, d.class_ids.options()), d.class_ids});
    }
    result.push_back(std::move(d));
  }
  return result;
}

}  // namespace sdn::models::maskrcnn

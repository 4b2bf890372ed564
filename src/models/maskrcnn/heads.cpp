// Implements the classifier and mask heads (see heads.hpp).
#include "models/maskrcnn/heads.hpp"

#include "models/maskrcnn/resnet.hpp"
#include "models/maskrcnn/roi_align.hpp"

namespace sdn::models::maskrcnn {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k));
}

}  // namespace

ClassifierImpl::ClassifierImpl(int64_t depth, int64_t pool, int64_t size, int64_t classes)
    : pool_size(pool), image_size(size) {
  conv1 = register_module("conv1", conv(depth, 1024, pool));
  bn1 = register_module("bn1", FrozenBatchNorm2d(1024));
  conv2 = register_module("conv2", conv(1024, 1024, 1));
  bn2 = register_module("bn2", FrozenBatchNorm2d(1024));
  linear_class = register_module("linear_class", torch::nn::Linear(1024, classes));
  linear_bbox = register_module("linear_bbox", torch::nn::Linear(1024, classes * 4));
}

ClassifierOutput ClassifierImpl::forward(const std::vector<torch::Tensor>& features, const torch::Tensor& rois,
                                         const torch::Tensor& box_ind) {
  auto x = pyramid_roi_align(features, rois, box_ind, pool_size, image_size);
  x = bn1(conv1(x)).relu();
  x = bn2(conv2(x)).relu().view({-1, 1024});
  ClassifierOutput out;
  out.logits = linear_class(x);
  out.probs = out.logits.softmax(1);
  out.deltas = linear_bbox(x).view({x.size(0), -1, 4});
  return out;
}

MaskHeadImpl::MaskHeadImpl(int64_t depth, int64_t pool, int64_t size, int64_t classes)
    : pool_size(pool), image_size(size) {
  conv1 = register_module("conv1", conv(depth, 256, 3));
  bn1 = register_module("bn1", FrozenBatchNorm2d(256));
  conv2 = register_module("conv2", conv(256, 256, 3));
  bn2 = register_module("bn2", FrozenBatchNorm2d(256));
  conv3 = register_module("conv3", conv(256, 256, 3));
  bn3 = register_module("bn3", FrozenBatchNorm2d(256));
  conv4 = register_module("conv4", conv(256, 256, 3));
  bn4 = register_module("bn4", FrozenBatchNorm2d(256));
  deconv =
      register_module("deconv", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(256, 256, 2).stride(2)));
  conv5 = register_module("conv5", conv(256, classes, 1));
}

torch::Tensor MaskHeadImpl::forward(const std::vector<torch::Tensor>& features, const torch::Tensor& rois,
                                    const torch::Tensor& box_ind) {
  auto x = pyramid_roi_align(features, rois, box_ind, pool_size, image_size);
  x = bn1(conv1(same_pad2d(x, 3, 1))).relu();
  x = bn2(conv2(same_pad2d(x, 3, 1))).relu();
  x = bn3(conv3(same_pad2d(x, 3, 1))).relu();
  x = bn4(conv4(same_pad2d(x, 3, 1))).relu();
  x = deconv(x).relu();
  return conv5(x).sigmoid();
}

}  // namespace sdn::models::maskrcnn

// Implements the Caffe-style ResNet stages (see resnet.hpp).
#include "models/maskrcnn/resnet.hpp"

namespace sdn::models::maskrcnn {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(true));
}

}  // namespace

torch::Tensor same_pad2d(const torch::Tensor& x, int64_t k, int64_t s) {
  auto total = [&](int64_t n) { return ((n + s - 1) / s - 1) * s + k - n; };
  const int64_t along_w = total(x.size(2)), along_h = total(x.size(3));  // sic: SamePad2d's naming
  const int64_t left = along_w / 2, top = along_h / 2;
  return torch::constant_pad_nd(x, {left, along_w - left, top, along_h - top}, 0);
}

CaffeBottleneckImpl::CaffeBottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample) {
  // Registration order = the original's attribute order (conv1, bn1, conv2, ..., downsample last).
  conv1 = register_module("conv1", conv(inplanes, planes, 1, stride));
  bn1 = register_module("bn1", FrozenBatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3));
  bn2 = register_module("bn2", FrozenBatchNorm2d(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1));
  bn3 = register_module("bn3", FrozenBatchNorm2d(planes * kExpansion));
  if (with_downsample)
    downsample = register_module("downsample", torch::nn::Sequential(conv(inplanes, planes * kExpansion, 1, stride),
                                                                     FrozenBatchNorm2d(planes * kExpansion)));
}

torch::Tensor CaffeBottleneckImpl::forward(const torch::Tensor& x) {
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(same_pad2d(out, 3, 1))).relu_();
  out = bn3(conv3(out));
  out = out + (downsample ? downsample->forward(x) : x);
  return out.relu_();
}

torch::nn::Sequential make_resnet_stem() {
  return torch::nn::Sequential(conv(3, 64, 7, 2, 3), FrozenBatchNorm2d(64),
                               torch::nn::Functional([](const torch::Tensor& x) { return x.relu(); }),
                               torch::nn::Functional([](const torch::Tensor& x) { return same_pad2d(x, 3, 2); }),
                               torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2)));
}

torch::nn::Sequential make_resnet_stage(int stage, int64_t blocks) {
  const int64_t planes = int64_t{64} << (stage - 2);
  const int64_t inplanes = stage == 2 ? 64 : planes * 2;  // the previous stage's 4 * planes / 2
  const int64_t stride = stage == 2 ? 1 : 2;
  torch::nn::Sequential seq;
  // make_layer: a downsample branch when the stride or the width changes (always true for the first block).
  seq->push_back(CaffeBottleneck(inplanes, planes, stride, stride != 1 || inplanes != planes * 4));
  for (int64_t b = 1; b < blocks; ++b) seq->push_back(CaffeBottleneck(planes * 4, planes, 1, false));
  return seq;
}

}  // namespace sdn::models::maskrcnn

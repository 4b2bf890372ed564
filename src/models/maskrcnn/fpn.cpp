// Implements the FPN (see fpn.hpp).
#include "models/maskrcnn/fpn.hpp"

#include "models/maskrcnn/resnet.hpp"

namespace sdn::models::maskrcnn {
namespace {

torch::nn::Sequential same_conv3x3(int64_t channels) {
  return torch::nn::Sequential(torch::nn::Functional([](const torch::Tensor& x) { return same_pad2d(x, 3, 1); }),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3)));
}

torch::Tensor upsample2(const torch::Tensor& x) { return torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2}); }

}  // namespace

FpnImpl::FpnImpl(const std::vector<int64_t>& layers, int64_t c) {
  C1 = register_module("C1", make_resnet_stem());
  C2 = register_module("C2", make_resnet_stage(2, layers.at(0)));
  C3 = register_module("C3", make_resnet_stage(3, layers.at(1)));
  C4 = register_module("C4", make_resnet_stage(4, layers.at(2)));
  C5 = register_module("C5", make_resnet_stage(5, layers.at(3)));
  P5_conv1 = register_module("P5_conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(2048, c, 1)));
  P5_conv2 = register_module("P5_conv2", same_conv3x3(c));
  P4_conv1 = register_module("P4_conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1024, c, 1)));
  P4_conv2 = register_module("P4_conv2", same_conv3x3(c));
  P3_conv1 = register_module("P3_conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(512, c, 1)));
  P3_conv2 = register_module("P3_conv2", same_conv3x3(c));
  P2_conv1 = register_module("P2_conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(256, c, 1)));
  P2_conv2 = register_module("P2_conv2", same_conv3x3(c));
}

std::vector<torch::Tensor> FpnImpl::forward(const torch::Tensor& images) {
  auto c2 = C2->forward(C1->forward(images));
  auto c3 = C3->forward(c2);
  auto c4 = C4->forward(c3);
  auto c5 = C5->forward(c4);
  auto p5 = P5_conv1(c5);
  auto p4 = P4_conv1(c4) + upsample2(p5);
  auto p3 = P3_conv1(c3) + upsample2(p4);
  auto p2 = P2_conv1(c2) + upsample2(p3);
  p5 = P5_conv2->forward(p5);
  auto p6 = torch::max_pool2d(p5, /*kernel_size=*/1, /*stride=*/2);
  return {P2_conv2->forward(p2), P3_conv2->forward(p3), P4_conv2->forward(p4), p5, p6};
}

}  // namespace sdn::models::maskrcnn

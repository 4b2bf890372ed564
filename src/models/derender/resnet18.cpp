// torchvision ResNet-18 (BasicBlock [2, 2, 2, 2]) with seeded torchvision initialisation.
#include "models/derender/resnet18.hpp"

#include <cmath>

#include "models/init.hpp"

namespace sdn::models::derender {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(padding).bias(false));
}

torch::nn::Sequential make_layer(int64_t inplanes, int64_t planes, int64_t stride) {
  torch::nn::Sequential layer;
  const bool down = stride != 1 || inplanes != planes;
  layer->push_back(BasicBlock(BasicBlockOptions(inplanes, planes).stride(stride).downsample(down)));
  layer->push_back(BasicBlock(BasicBlockOptions(planes, planes)));
  return layer;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(const BasicBlockOptions& o) {
  conv1 = register_module("conv1", conv(o.inplanes(), o.planes(), 3, o.stride(), 1));
  bn1 = register_module("bn1", SyncBatchNorm2d(o.planes()));
  conv2 = register_module("conv2", conv(o.planes(), o.planes(), 3, 1, 1));
  bn2 = register_module("bn2", SyncBatchNorm2d(o.planes()));
  if (o.downsample()) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(conv(o.inplanes(), o.planes(), 1, o.stride(), 0), SyncBatchNorm2d(o.planes())));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  out = out + (downsample ? downsample->forward(x) : x);
  return torch::relu(out);
}

Resnet18Impl::Resnet18Impl(const Resnet18Options& o) {
  conv1 = register_module("conv1", conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", SyncBatchNorm2d(64));
  layer1 = register_module("layer1", make_layer(64, 64, 1));
  layer2 = register_module("layer2", make_layer(64, 128, 2));
  layer3 = register_module("layer3", make_layer(128, 256, 2));
  layer4 = register_module("layer4", make_layer(256, 512, 2));
  fc = register_module("fc", torch::nn::Linear(512, o.fc_out()));
}

torch::Tensor Resnet18Impl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = torch::max_pool2d(y, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  y = layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
  y = torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1);  // the original's AdaptiveAvgPool2d(1) patch
  return fc(y);
}

void linear_default_init(torch::nn::LinearImpl& linear, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(linear.weight.size(1)));
  linear.weight.uniform_(-bound, bound, gen);
  if (linear.bias.defined()) linear.bias.uniform_(-bound, bound, gen);
}

void Resnet18Impl::init_weights(at::Generator& gen) {
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2dImpl>()) init::he_normal_fan_out(c->weight, gen);
    if (auto* b = m->as<SyncBatchNorm2dImpl>()) b->reset_parameters();
  }
  linear_default_init(*fc, gen);
}

}  // namespace sdn::models::derender

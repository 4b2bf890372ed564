// Implements the dilated deep-stem ResNet encoder (see resnet_dilated.hpp).
#include "models/resnet_dilated.hpp"

#include "core/error.hpp"
#include "models/init.hpp"

namespace sdn::models {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, /*kernel_size=*/3).stride(stride).padding(1).bias(false));
}

}  // namespace

BottleneckImpl::BottleneckImpl(const BottleneckOptions& o) {
  const int64_t d = o.dilation();
  // Registration order = the original Bottleneck's, which fixes the state_dict order.
  conv1 =
      register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.inplanes(), o.planes(), 1).bias(false)));
  bn1 = register_module("bn1", original_sync_bn(o.planes()));
  conv2 = register_module(
      "conv2",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(o.planes(), o.planes(), 3).stride(o.stride()).padding(d).dilation(d).bias(false)));
  bn2 = register_module("bn2", original_sync_bn(o.planes()));
  conv3 = register_module(
      "conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.planes(), o.planes() * kExpansion, 1).bias(false)));
  bn3 = register_module("bn3", original_sync_bn(o.planes() * kExpansion));
  if (o.downsample()) {
    downsample = register_module(
        "downsample",
        torch::nn::Sequential(
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(o.inplanes(), o.planes() * kExpansion, 1).stride(o.stride()).bias(false)),
            original_sync_bn(o.planes() * kExpansion)));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(out)).relu_();
  out = bn3(conv3(out));
  out += downsample ? downsample->forward(x) : x;
  return torch::relu_(out);
}

int64_t resnet_block_dilation(int64_t dilate_scale, int layer, int64_t block) {
  int64_t dilate = 1;
  if (dilate_scale == 8 && layer == 3) dilate = 2;
  if (dilate_scale == 8 && layer == 4) dilate = 4;
  if (dilate_scale == 16 && layer == 4) dilate = 2;
  if (dilate == 1) return 1;
  return block == 0 ? dilate / 2 : dilate;
}

ResnetDilatedImpl::ResnetDilatedImpl(const ResnetDilatedOptions& options_) : options(options_) {
  if (options.layers().size() != 4) throw Error("ResnetDilated: expected 4 layer depths");
  if (options.dilate_scale() != 8 && options.dilate_scale() != 16)
    throw UsageError("ResnetDilated: dilate_scale must be 8 or 16, got " + std::to_string(options.dilate_scale()));
  conv1 = register_module("conv1", conv3x3(3, 64, 2));
  bn1 = register_module("bn1", original_sync_bn(64));
  conv2 = register_module("conv2", conv3x3(64, 64, 1));
  bn2 = register_module("bn2", original_sync_bn(64));
  conv3 = register_module("conv3", conv3x3(64, 128, 1));
  bn3 = register_module("bn3", original_sync_bn(128));

  int64_t inplanes = 128;  // the deep stem ends with 128 channels
  const int64_t planes[4] = {64, 128, 256, 512};
  torch::nn::Sequential* slots[4] = {&layer1, &layer2, &layer3, &layer4};
  for (int l = 0; l < 4; ++l) {
    // The original builds layer2..4 with stride 2; _nostride_dilate then turns dilated layers' strides to 1.
    const bool dilated = resnet_block_dilation(options.dilate_scale(), l + 1, 1) > 1;
    const int64_t stride = (l == 0 || dilated) ? 1 : 2;
    const bool had_stride = l > 0;
    torch::nn::Sequential seq;
    for (int64_t b = 0; b < options.layers()[l]; ++b) {
      BottleneckOptions bo(b == 0 ? inplanes : planes[l] * BottleneckImpl::kExpansion, planes[l]);
      bo.stride(b == 0 ? stride : 1).dilation(resnet_block_dilation(options.dilate_scale(), l + 1, b));
      bo.downsample(b == 0 && (had_stride || inplanes != planes[l] * BottleneckImpl::kExpansion));
      seq->push_back(Bottleneck(bo));
    }
    inplanes = planes[l] * BottleneckImpl::kExpansion;
    *slots[l] = register_module("layer" + std::to_string(l + 1), seq);
  }
}

std::vector<torch::Tensor> ResnetDilatedImpl::forward(const torch::Tensor& x) {
  auto h = bn1(conv1(x)).relu_();
  h = bn2(conv2(h)).relu_();
  h = bn3(conv3(h)).relu_();
  h = torch::max_pool2d(h, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  std::vector<torch::Tensor> out;
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4}) {
    h = (*layer)->forward(h);
    out.push_back(h);
  }
  return out;
}

void ResnetDilatedImpl::init_weights(at::Generator& gen) {
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) init::he_normal_fan_out(conv->weight, gen);
    if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(m.get())) bn->reset_parameters();
  }
}

}  // namespace sdn::models

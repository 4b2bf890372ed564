// Implements DRN-D and the DRNSeg head (see drn.hpp).
#include "models/drn.hpp"

#include <cmath>

#include "core/error.hpp"
#include "models/init.hpp"

namespace sdn::models {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride, int64_t dilation) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(dilation).dilation(dilation).bias(false));
}

// DRN's _make_conv_layers: `convs` x (3x3 conv, BN, ReLU), the first with `stride`.
torch::nn::Sequential conv_layers(int64_t& inplanes, int64_t channels, int64_t convs, int64_t stride,
                                  int64_t dilation) {
  torch::nn::Sequential seq;
  for (int64_t i = 0; i < convs; ++i) {
    seq->push_back(conv3x3(inplanes, channels, i == 0 ? stride : 1, dilation));
    seq->push_back(SyncBatchNorm2d(channels));
    seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(/*inplace=*/true)));
    inplanes = channels;
  }
  return seq;
}

// DRN's _make_layer with BasicBlock: a layer that keeps the resolution (new_level=false) starts at the full
// dilation, others at half of it.
torch::nn::Sequential residual_layer(int64_t& inplanes, int64_t planes, int64_t blocks, int64_t stride,
                                     int64_t dilation, bool new_level) {
  torch::nn::Sequential seq;
  BasicBlockOptions first(inplanes, planes);
  first.stride(stride).downsample(stride != 1 || inplanes != planes);
  if (dilation != 1) first.dilation1(new_level ? dilation / 2 : dilation).dilation2(dilation);
  seq->push_back(BasicBlock(first));
  inplanes = planes;
  for (int64_t b = 1; b < blocks; ++b)
    seq->push_back(BasicBlock(BasicBlockOptions(inplanes, planes).dilation1(dilation).dilation2(dilation)));
  return seq;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(const BasicBlockOptions& o) : residual(o.residual()) {
  conv1 = register_module("conv1", conv3x3(o.inplanes(), o.planes(), o.stride(), o.dilation1()));
  bn1 = register_module("bn1", SyncBatchNorm2d(o.planes()));
  conv2 = register_module("conv2", conv3x3(o.planes(), o.planes(), 1, o.dilation2()));
  bn2 = register_module("bn2", SyncBatchNorm2d(o.planes()));
  if (o.downsample()) {
    downsample = register_module(
        "downsample",
        torch::nn::Sequential(
            torch::nn::Conv2d(torch::nn::Conv2dOptions(o.inplanes(), o.planes(), 1).stride(o.stride()).bias(false)),
            SyncBatchNorm2d(o.planes())));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = bn1(conv1(x)).relu_();
  out = bn2(conv2(out));
  if (residual) out += downsample ? downsample->forward(x) : x;
  return torch::relu_(out);
}

torch::nn::ModuleList make_drn_d_base(const DrnOptions& o) {
  const auto& c = o.channels();
  const auto& n = o.layers();
  if (c.size() != 8 || n.size() != 8) throw Error("DRN: expected 8 channel widths and 8 layer depths");
  int64_t inplanes = c[0];
  torch::nn::ModuleList base;
  base->push_back(
      torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c[0], 7).stride(1).padding(3).bias(false)),
                            SyncBatchNorm2d(c[0]), torch::nn::ReLU(torch::nn::ReLUOptions(true))));
  base->push_back(conv_layers(inplanes, c[0], n[0], /*stride=*/1, /*dilation=*/1));
  base->push_back(conv_layers(inplanes, c[1], n[1], /*stride=*/2, /*dilation=*/1));
  base->push_back(residual_layer(inplanes, c[2], n[2], /*stride=*/2, /*dilation=*/1, /*new_level=*/true));
  base->push_back(residual_layer(inplanes, c[3], n[3], /*stride=*/2, /*dilation=*/1, /*new_level=*/true));
  base->push_back(residual_layer(inplanes, c[4], n[4], /*stride=*/1, /*dilation=*/2, /*new_level=*/false));
  // Absent layers are not children in fyu/drn either, so later indices shift the same way.
  if (n[5] > 0) base->push_back(residual_layer(inplanes, c[5], n[5], 1, /*dilation=*/4, /*new_level=*/false));
  if (n[6] > 0) base->push_back(conv_layers(inplanes, c[6], n[6], 1, /*dilation=*/2));
  if (n[7] > 0) base->push_back(conv_layers(inplanes, c[7], n[7], 1, /*dilation=*/1));
  return base;
}

torch::Tensor bilinear_up_kernel(int64_t classes, int64_t kernel_size) {
  const int64_t f = (kernel_size + 1) / 2;
  const double centre = static_cast<double>(2 * f - 1 - f % 2) / (2.0 * static_cast<double>(f));
  auto k = torch::empty({kernel_size, kernel_size});
  auto a = k.accessor<float, 2>();
  for (int64_t i = 0; i < kernel_size; ++i)
    for (int64_t j = 0; j < kernel_size; ++j)
      a[i][j] = static_cast<float>((1.0 - std::fabs(static_cast<double>(i) / f - centre)) *
                                   (1.0 - std::fabs(static_cast<double>(j) / f - centre)));
  return k.view({1, 1, kernel_size, kernel_size}).repeat({classes, 1, 1, 1});
}

DrnSegImpl::DrnSegImpl(const DrnSegOptions& options_) : options(options_) {
  const int64_t classes = options.num_classes();
  base = register_module("base", make_drn_d_base(options.drn()));
  seg =
      register_module("seg", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.drn().channels().back(), classes, 1)));
  up = register_module(
      "up",
      torch::nn::ConvTranspose2d(
          torch::nn::ConvTranspose2dOptions(classes, classes, 16).stride(8).padding(4).groups(classes).bias(false)));
  auto gen = init::make_generator(options.seed());
  for (auto& m : base->modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(m.get())) init::he_normal_fan_out(conv->weight, gen);
  }
  init::he_normal_fan_out(seg->weight, gen);
  torch::NoGradGuard no_grad;
  seg->bias.zero_();
  up->weight.copy_(bilinear_up_kernel(classes, 16));
  up->weight.set_requires_grad(false);
  for (const auto& stage : base->children())
    stages_.emplace_back(std::dynamic_pointer_cast<torch::nn::SequentialImpl>(stage));
  label_sync_batchnorms(*this);
}

torch::Tensor DrnSegImpl::features(const torch::Tensor& images) {
  auto h = images;
  for (auto& stage : stages_) h = stage->forward(h);
  return h;
}

SegOutput DrnSegImpl::forward_train(const torch::Tensor& images) {
  SegOutput out;
  out.main = torch::log_softmax(seg(features(images)), /*dim=*/1);
  return out;
}

torch::Tensor DrnSegImpl::forward_infer(const torch::Tensor& images, std::array<int64_t, 2> out_size) {
  auto y = up(seg(features(images)));
  if (y.size(2) != out_size[0] || y.size(3) != out_size[1]) {
    y = F::interpolate(y, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{out_size[0], out_size[1]})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  return torch::softmax(y, /*dim=*/1);
}

}  // namespace sdn::models

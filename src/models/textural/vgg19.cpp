// Implements the VGG-19 feature extractor and its weight loader (see vgg19.hpp).
#include "models/textural/vgg19.hpp"

#include <filesystem>
#include <iterator>

#include "core/error.hpp"
#include "core/h5.hpp"
#include "models/init.hpp"
#include "models/state_dict.hpp"

namespace sdn::models::textural {
namespace {

namespace nn = torch::nn;

// torchvision's cfg 'E' up to relu5_1: channel counts, 0 = max-pool.
constexpr int64_t kLayout[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512};
// Exclusive end index (in `features`) of each returned slice: relu1_1 .. relu5_1.
constexpr int64_t kSliceEnds[] = {2, 7, 12, 21, 30};

const char* kVggHint =
    "convert torchvision's VGG-19 (vgg19-dcbb9e9d.pth) with 'scripts/pth_to_h5.py --state vgg19-dcbb9e9d.pth "
    "--model vgg19 --out vgg19.h5' and set textural.vgg_weights to it, or turn the VGG loss off";

}  // namespace

Vgg19Impl::Vgg19Impl(std::uint64_t seed) {
  features = register_module("features", nn::Sequential());
  int64_t in = 3;
  for (int64_t c : kLayout) {
    if (c == 0) {
      features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    features->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1)));
    features->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
    in = c;
  }
  auto gen = init::make_generator(seed);
  for (auto& m : features->modules(/*include_self=*/false))
    if (auto* conv = dynamic_cast<nn::Conv2dImpl*>(m.get())) init::torch_default(*conv, gen);
  for (auto& p : parameters()) p.set_requires_grad(false);
}

std::vector<torch::Tensor> Vgg19Impl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> out;
  auto h = x;
  int64_t i = 0;
  const int64_t* end = std::begin(kSliceEnds);
  for (auto& layer : *features) {
    h = layer.forward(h);
    if (++i == *end) {
      out.push_back(h);
      if (++end == std::end(kSliceEnds)) break;
    }
  }
  return out;
}

void load_vgg19_weights(Vgg19Impl& vgg, const std::string& path) {
  if (path.empty()) throw UsageError("textural.vgg_weights is not set but the VGG loss is on", kVggHint);
  if (!std::filesystem::exists(path))
    throw UsageError("textural.vgg_weights: " + path + " does not exist", kVggHint);
  auto file = h5::open_read(path);
  std::vector<std::string> problems;
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state_dict(vgg)) {
    if (!h5::exists(file, name)) {
      problems.push_back(name + " is missing");
      continue;
    }
    auto ds = h5::open_dataset(file, name, path);
    auto d = h5::dims(ds);
    const std::vector<int64_t> dims(d.begin(), d.end());
    if (torch::IntArrayRef(dims) != tensor.sizes()) {
      problems.push_back(name + " has shape " + shape_text(dims) + ", expected " + shape_text(tensor.sizes()));
      continue;
    }
    auto host = torch::empty(dims, torch::kFloat);
    h5::read_all(ds, h5::native<float>(), host.data_ptr(), path + ": " + name);
    tensor.copy_(host);
  }
  if (!problems.empty()) {
    std::string msg = "textural.vgg_weights: " + path + " is not a VGG-19 weights file:";
    for (const auto& p : problems) msg += "\n  - " + p;
    throw UsageError(msg, kVggHint);
  }
}

}  // namespace sdn::models::textural

// Implements GlobalGenerator and ResnetBlock (see global_generator.hpp).
#include "models/textural/global_generator.hpp"

#include "core/error.hpp"
#include "models/textural/pix2pixhd_init.hpp"

namespace sdn::models::textural {
namespace {

namespace nn = torch::nn;

nn::ReflectionPad2d reflect(int64_t p) { return nn::ReflectionPad2d(nn::ReflectionPad2dOptions(p)); }
nn::ReLU relu() { return nn::ReLU(nn::ReLUOptions(/*inplace=*/true)); }

}  // namespace

ResnetBlockImpl::ResnetBlockImpl(int64_t dim) {
  conv_block = register_module(
      "conv_block", nn::Sequential(reflect(1), nn::Conv2d(nn::Conv2dOptions(dim, dim, 3)), instance_norm(dim), relu(),
                                   reflect(1), nn::Conv2d(nn::Conv2dOptions(dim, dim, 3)), instance_norm(dim)));
}

torch::Tensor ResnetBlockImpl::forward(const torch::Tensor& x) { return x + conv_block->forward(x); }

nn::Sequential make_down_up(int64_t input_nc, int64_t output_nc, int64_t ngf, int64_t n_downsampling,
                            int64_t n_blocks) {
  if (input_nc < 1 || output_nc < 1 || ngf < 1 || n_downsampling < 0 || n_blocks < 0)
    throw Error("pix2pixHD generator: channel counts must be positive and depths non-negative");
  nn::Sequential m;
  m->push_back(reflect(3));
  m->push_back(nn::Conv2d(nn::Conv2dOptions(input_nc, ngf, 7)));
  m->push_back(instance_norm(ngf));
  m->push_back(relu());
  for (int64_t i = 0; i < n_downsampling; ++i) {
    const int64_t c = ngf << i;
    m->push_back(nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 3).stride(2).padding(1)));
    m->push_back(instance_norm(2 * c));
    m->push_back(relu());
  }
  for (int64_t i = 0; i < n_blocks; ++i) m->push_back(ResnetBlock(ngf << n_downsampling));
  for (int64_t i = 0; i < n_downsampling; ++i) {
    const int64_t c = ngf << (n_downsampling - i);
    m->push_back(nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c, c / 2, 3).stride(2).padding(1).output_padding(1)));
    m->push_back(instance_norm(c / 2));
    m->push_back(relu());
  }
  m->push_back(reflect(3));
  m->push_back(nn::Conv2d(nn::Conv2dOptions(ngf, output_nc, 7)));
  m->push_back(nn::Tanh());
  return m;
}

GlobalGeneratorImpl::GlobalGeneratorImpl(const GlobalGeneratorOptions& o) : options(o) {
  model = register_module("model", make_down_up(o.input_nc(), o.output_nc(), o.ngf(), o.n_downsampling(),
                                                o.n_blocks()));
  pix2pixhd_init(*this, o.seed());
}

torch::Tensor GlobalGeneratorImpl::forward(const torch::Tensor& input) { return model->forward(input); }

}  // namespace sdn::models::textural

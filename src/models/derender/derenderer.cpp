// The derenderer network and the decoding of its outputs.
#include "models/derender/derenderer.hpp"

#include "models/init.hpp"

namespace sdn::models::derender {

void roi_centre_size(const torch::Tensor& roi_norms, torch::Tensor& mroi_norms, torch::Tensor& droi_norms) {
  TORCH_CHECK(roi_norms.dim() == 2 && roi_norms.size(1) == 4, "roi_norms must be [N, 4] (t, l, b, r)");
  const auto t = roi_norms.select(1, 0), l = roi_norms.select(1, 1), b = roi_norms.select(1, 2),
             r = roi_norms.select(1, 3);
  mroi_norms = torch::stack({b + t, r + l}, 1) / 2.0;
  droi_norms = torch::stack({b - t, r - l}, 1);
}

DerendererImpl::DerendererImpl(const DerendererOptions& o) : options(o) {
  net = register_module("net", Resnet18(Resnet18Options().fc_out(kHidden)));
  fc1 = register_module("fc1", torch::nn::Linear(kHidden + kRoiInputs, kHidden));
  fc2 = register_module("fc2", torch::nn::Linear(kHidden, kHidden));
  fc3 = register_module("_fc3", torch::nn::Linear(kHidden, out_size()));
  init_weights(o.seed());
}

int64_t DerendererImpl::out_size() const { return 2 + 2 + 3 + 1 + options.num_classes() * (1 + ffd_size()); }

void DerendererImpl::init_weights(std::uint64_t seed) {
  auto gen = init::make_generator(seed);
  net->init_weights(gen);
  for (auto* l : {fc1.get(), fc2.get(), fc3.get()}) linear_default_init(*l, gen);
}

torch::Tensor DerendererImpl::forward(const torch::Tensor& images, const torch::Tensor& mroi_norms,
                                      const torch::Tensor& droi_norms) {
  auto x = torch::relu(net(images));
  x = torch::cat({x, mroi_norms.to(x.dtype()), droi_norms.to(x.dtype())}, 1);
  x = torch::relu(fc1(x));
  x = torch::relu(fc2(x));
  return fc3(x);
}

DerendererOutputs DerendererImpl::decode(const torch::Tensor& raw) const {
  const int64_t k = options.num_classes();
  TORCH_CHECK(raw.dim() == 2 && raw.size(1) == out_size(), "derenderer outputs must be [N, ", out_size(), "]");
  auto parts = torch::split_with_sizes(raw, {2, 2, 3, 1, k, k * ffd_size()}, 1);
  DerendererOutputs o;
  // The original divides by the plain L2 norm (no epsilon).
  o.theta_deltas = parts[0] / torch::norm(parts[0], 2, {1}, /*keepdim=*/true);
  o.translation2ds = parts[1];
  o.log_scales = parts[2];
  o.log_depths = parts[3];
  o.class_logits = parts[4];
  o.class_probs = torch::softmax(parts[4], 1);
  o.ffd_coeffs = parts[5].reshape({-1, k, ffd_size()});
  return o;
}

}  // namespace sdn::models::derender

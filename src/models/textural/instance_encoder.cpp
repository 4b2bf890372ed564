// Implements the instance encoder and its instance-wise average pooling (see instance_encoder.hpp).
#include "models/textural/instance_encoder.hpp"

#include "core/error.hpp"
#include "models/state_dict.hpp"
#include "models/textural/global_generator.hpp"
#include "models/textural/pix2pixhd_init.hpp"

namespace sdn::models::textural {

torch::Tensor instance_mean_pool(const torch::Tensor& features, const torch::Tensor& instances) {
  if (features.dim() != 4 || instances.dim() != 4 || instances.size(1) != 1 || instances.size(0) != features.size(0) ||
      instances.size(2) != features.size(2) || instances.size(3) != features.size(3))
    throw Error("instance_mean_pool: features " + shape_text(features.sizes()) + " and instances " +
                shape_text(instances.sizes()) + " must be [B,C,H,W] and [B,1,H,W]");
  const int64_t b = features.size(0), c = features.size(1);
  // The original folds the image index into the id (id * B + b) so equal ids of different images stay apart.
  auto ids = instances.to(features.device(), torch::kLong) * b +
             torch::arange(b, torch::TensorOptions().dtype(torch::kLong).device(features.device())).view({b, 1, 1, 1});
  auto [unique, group] = torch::_unique(ids.flatten(), /*sorted=*/false, /*return_inverse=*/true);
  const int64_t groups = unique.size(0);
  auto flat = features.permute({0, 2, 3, 1}).reshape({-1, c});
  auto sums = torch::zeros({groups, c}, features.options()).index_add(0, group, flat);
  auto counts = torch::bincount(group, /*weights=*/{}, groups).to(features.scalar_type());
  auto means = sums / counts.unsqueeze(1);
  return means.index_select(0, group)
      .view({b, features.size(2), features.size(3), c})
      .permute({0, 3, 1, 2})
      .contiguous();
}

InstanceFeatureTable instance_feature_table(const torch::Tensor& features, const torch::Tensor& instances) {
  if (features.dim() != 4 || features.size(0) != 1 || instances.dim() != 4 || instances.size(0) != 1 ||
      instances.size(1) != 1 || instances.size(2) != features.size(2) || instances.size(3) != features.size(3))
    throw Error("instance_feature_table: features " + shape_text(features.sizes()) + " and instances " +
                shape_text(instances.sizes()) + " must be [1,C,H,W] and [1,1,H,W]");
  const int64_t c = features.size(1);
  auto ids = instances.to(features.device(), torch::kLong).flatten();
  // The same sums as instance_mean_pool (index_add in pixel order), so an unedited frame gets the same code.
  auto [unique, group] = torch::_unique(ids, /*sorted=*/true, /*return_inverse=*/true);
  auto flat = features.permute({0, 2, 3, 1}).reshape({-1, c});
  auto sums = torch::zeros({unique.size(0), c}, features.options()).index_add(0, group, flat);
  auto counts = torch::bincount(group, /*weights=*/{}, unique.size(0)).to(features.scalar_type());
  return {unique, sums / counts.unsqueeze(1)};
}

torch::Tensor paint_instance_features(const InstanceFeatureTable& t, const torch::Tensor& instances,
                                      std::vector<int64_t>* missing) {
  if (instances.dim() != 4 || instances.size(0) != 1 || instances.size(1) != 1)
    throw Error("paint_instance_features: instances must be [1,1,H,W], got " + shape_text(instances.sizes()));
  const int64_t c = t.means.size(1), h = instances.size(2), w = instances.size(3);
  auto ids = instances.to(t.ids.device(), torch::kLong).flatten();
  auto pos = torch::searchsorted(t.ids, ids).clamp_max(t.ids.size(0) - 1);
  auto found = t.ids.index_select(0, pos) == ids;
  auto out = t.means.index_select(0, pos) * found.unsqueeze(1).to(t.means.scalar_type());
  if (missing) {
    missing->clear();
    auto lost = std::get<0>(torch::_unique(ids.masked_select(~found), /*sorted=*/true)).cpu();
    for (int64_t i = 0; i < lost.size(0); ++i) missing->push_back(lost[i].item<int64_t>());
  }
  return out.view({1, h, w, c}).permute({0, 3, 1, 2}).contiguous();
}

InstanceEncoderImpl::InstanceEncoderImpl(const InstanceEncoderOptions& o) : options(o) {
  model = register_module("model", make_down_up(o.input_nc(), o.output_nc(), o.nef(), o.n_downsampling(), 0));
  pix2pixhd_init(*this, o.seed());
}

torch::Tensor InstanceEncoderImpl::forward(const torch::Tensor& image, const torch::Tensor& instances) {
  return instance_mean_pool(model->forward(image), instances);
}

}  // namespace sdn::models::textural

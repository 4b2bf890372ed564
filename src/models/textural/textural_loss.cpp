// Implements the textural losses (see textural_loss.hpp).
#include "models/textural/textural_loss.hpp"

#include "models/textural/textural_inputs.hpp"

namespace sdn::models::textural {
namespace {

namespace F = torch::nn::functional;

}  // namespace

const std::vector<double>& vgg_layer_weights() {
  static const std::vector<double> w{1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0};
  return w;
}

torch::Tensor lsgan_loss(const DFeatures& pred, bool target_is_real) {
  torch::Tensor loss;
  for (const auto& scale : pred) {
    const auto& p = scale.back();
    auto term = F::mse_loss(p, torch::full_like(p, target_is_real ? 1.0 : 0.0));
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

std::vector<std::pair<std::string, torch::Tensor>> TexturalTerms::named() const {
  return {{"G/gan", g_gan.detach()},   {"G/feat", g_feat.detach()}, {"G/vgg", g_vgg.detach()},
          {"G/l1", g_l1.detach()},     {"D/real", d_real.detach()}, {"D/fake", d_fake.detach()}};
}

TexturalTerms textural_losses(MultiscaleDiscriminatorImpl& netD, Vgg19Impl* vgg, const torch::Tensor& label_edges,
                              const torch::Tensor& fake, const torch::Tensor& real, const TexturalLossOptions& o) {
  TexturalTerms t;
  const auto zero = torch::zeros({}, fake.options());
  auto pred_fake_pool = netD.forward(discriminator_input(label_edges, fake.detach()));
  t.d_fake = lsgan_loss(pred_fake_pool, false);
  auto pred_real = netD.forward(discriminator_input(label_edges, real.detach()));
  t.d_real = lsgan_loss(pred_real, true);
  auto pred_fake = netD.forward(discriminator_input(label_edges, fake));
  t.g_gan = lsgan_loss(pred_fake, true);

  t.g_feat = zero;
  if (o.gan_feat) {
    const double num_d = static_cast<double>(netD.options.num_D());
    const double feat_weight = 4.0 / static_cast<double>(netD.options.n_layers() + 1);
    // The original's accumulation order and constant order (D_w * feat_w * L1 * lambda), term by term.
    for (size_t i = 0; i < pred_fake.size(); ++i)
      for (size_t j = 0; j + 1 < pred_fake[i].size(); ++j)
        t.g_feat = t.g_feat + (1.0 / num_d) * feat_weight * F::l1_loss(pred_fake[i][j], pred_real[i][j].detach()) *
                                  o.lambda_feat;
  }

  t.g_vgg = zero;
  if (vgg != nullptr) {
    auto xv = vgg->forward(fake), yv = vgg->forward(real);
    const auto& w = vgg_layer_weights();
    for (size_t i = 0; i < xv.size(); ++i) t.g_vgg = t.g_vgg + w[i] * F::l1_loss(xv[i], yv[i].detach());
    t.g_vgg = t.g_vgg * o.lambda_feat;
  }

  t.g_l1 = o.lambda_l1 > 0 ? F::l1_loss(fake, real) * o.lambda_l1 : zero;
  return t;
}

}  // namespace sdn::models::textural

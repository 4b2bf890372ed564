// The textural losses, metrics, schedule and VGG weights: LSGAN targets and the sum over scales, the D loss
// reaching only D (fake detached), the G terms vanishing when the generated image is the real one, the
// original's feature-matching weights, the named terms, PSNR/SSIM/L1 on images with known answers, the
// epoch schedule of train.py, and the VGG loader's errors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "core/h5.hpp"
#include "models/textural/image_metrics.hpp"
#include "models/textural/textural_loss.hpp"
#include "models/textural/textural_schedule.hpp"
#include "models/weights_io.hpp"
#include "test_models_textural_util.hpp"
#include "test_models_util.hpp"

namespace {

namespace tx = sdn::models::textural;

bool any_grad(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params)
    if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) return true;
  return false;
}

void zero_grads(tx::TexturalNets& nets) {
  for (auto& p : nets.generator_parameters()) p.mutable_grad() = torch::Tensor();
  for (auto& p : nets.discriminator_parameters()) p.mutable_grad() = torch::Tensor();
}

}  // namespace

TEST(TexturalLoss, LsganTargetsAndScaleSum) {
  tx::DFeatures pred{{torch::zeros({1, 2, 2, 2}), torch::full({1, 1, 3, 3}, 0.25)},
                     {torch::zeros({1, 1}), torch::full({1, 1, 2, 2}, 2.0)}};
  EXPECT_DOUBLE_EQ(tx::lsgan_loss(pred, true).item<double>(), 0.75 * 0.75 + 1.0);
  EXPECT_DOUBLE_EQ(tx::lsgan_loss(pred, false).item<double>(), 0.0625 + 4.0);
}

TEST(TexturalLoss, OneForwardFeedsBothUpdates) {
  tx::TexturalNets nets(sdn_test::tiny_textural(/*vgg=*/true));
  auto batch = sdn_test::tiny_batch(6);
  auto gen = nets.generate(batch);
  auto terms = tx::textural_losses(*nets.netD, nets.vgg.get(), gen.label_edges, gen.fake, batch.real);
  const auto named = terms.named();
  ASSERT_EQ(named.size(), 6u);
  const char* names[] = {"G/gan", "G/feat", "G/vgg", "G/l1", "D/real", "D/fake"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(named[i].first, names[i]);
    EXPECT_EQ(named[i].second.dim(), 0);
    EXPECT_GT(named[i].second.item<double>(), 0.0) << names[i];
    EXPECT_FALSE(named[i].second.requires_grad());
  }
  EXPECT_NEAR(terms.g_l1.item<double>(), 10.0 * (gen.fake - batch.real).abs().mean().item<double>(), 1e-5);
  // The D loss reaches D only: the generated image is detached in its fake term.
  terms.d_total().backward({}, /*retain_graph=*/true);
  EXPECT_TRUE(any_grad(nets.discriminator_parameters()));
  EXPECT_FALSE(any_grad(nets.generator_parameters()));
  zero_grads(nets);
  // The G loss reaches G and E (and D, whose gradients the D update zeroes first, as the original).
  terms.g_total().backward();
  EXPECT_TRUE(any_grad(nets.netG->parameters()));
  EXPECT_TRUE(any_grad(nets.netE->parameters()));
  for (const auto& p : nets.vgg->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(TexturalLoss, TermsVanishForAPerfectReconstruction) {
  tx::TexturalNets nets(sdn_test::tiny_textural(/*vgg=*/true));
  auto batch = sdn_test::tiny_batch(7);
  auto le = tx::label_and_edges(batch.labels, batch.instances);
  auto fake = batch.real.clone().requires_grad_();
  auto t = tx::textural_losses(*nets.netD, nets.vgg.get(), le, fake, batch.real);
  EXPECT_EQ(t.g_l1.item<double>(), 0.0);
  EXPECT_EQ(t.g_vgg.item<double>(), 0.0);
  EXPECT_NEAR(t.g_feat.item<double>(), 0.0, 1e-7);
  // Same D input for fake and real: the real and fake terms are the targets' two sides of one prediction.
  EXPECT_NEAR(t.g_gan.item<double>(), t.d_real.item<double>(), 1e-6);
  // Without feature matching, VGG or L1 only the GAN term is left.
  tx::TexturalLossOptions o;
  o.gan_feat = false;
  o.lambda_l1 = 0.0;
  auto t2 = tx::textural_losses(*nets.netD, nullptr, le, torch::zeros_like(batch.real), batch.real, o);
  EXPECT_EQ(t2.g_feat.item<double>(), 0.0);
  EXPECT_EQ(t2.g_vgg.item<double>(), 0.0);
  EXPECT_EQ(t2.g_l1.item<double>(), 0.0);
  EXPECT_NEAR(t2.d_total().item<double>(), 0.5 * (t2.d_fake.item<double>() + t2.d_real.item<double>()), 1e-6);
}

TEST(TexturalLoss, FeatureMatchingWeights) {
  // 2 scales, 3 layers: each intermediate layer counts (1/2)(4/4) x 5 = 2.5 x its L1 distance.
  tx::TexturalNets nets(sdn_test::tiny_textural());
  auto batch = sdn_test::tiny_batch(8);
  auto le = tx::label_and_edges(batch.labels, batch.instances);
  auto fake = torch::zeros_like(batch.real);
  torch::NoGradGuard no_grad;
  auto t = tx::textural_losses(*nets.netD, nullptr, le, fake, batch.real);
  auto pf = nets.netD->forward(tx::discriminator_input(le, fake));  // no norm state changes the output
  auto pr = nets.netD->forward(tx::discriminator_input(le, batch.real));
  double want = 0;
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < 4; ++j) want += 2.5 * (pf[i][j] - pr[i][j]).abs().mean().item<double>();
  EXPECT_NEAR(t.g_feat.item<double>(), want, 1e-5 * want);
  EXPECT_EQ(tx::vgg_layer_weights(), (std::vector<double>{1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0}));
}

TEST(TexturalMetrics, KnownAnswers) {
  torch::manual_seed(9);
  auto real = torch::rand({2, 3, 16, 20}) - 0.5;  // [-0.5, 0.5]: no clamping after a 0.2 shift
  auto fake = real + 0.2;
  auto l1 = tx::l1_error(fake, real);
  EXPECT_NEAR(l1[0].item<double>(), 0.2, 1e-6);
  EXPECT_NEAR(tx::psnr(fake, real)[1].item<double>(), 20.0, 1e-4);  // [0, 1] difference 0.1: MSE 0.01
  EXPECT_TRUE(std::isinf(tx::psnr(real, real)[0].item<double>()));
  EXPECT_NEAR(tx::ssim(real, real)[0].item<double>(), 1.0, 1e-9);
  // Constant images a, b in [0, 1]: only the luminance term, (2ab + C1) / (a^2 + b^2 + C1).
  const double a = 0.3, b = 0.5, c1 = 1e-4;
  auto s = tx::ssim(torch::full({1, 3, 12, 12}, 2 * a - 1), torch::full({1, 3, 12, 12}, 2 * b - 1));
  EXPECT_NEAR(s[0].item<double>(), (2 * a * b + c1) / (a * a + b * b + c1), 1e-7);  // a, b held in float32
  // More noise, lower SSIM.
  auto noisy = [&](double sd) { return (real + sd * torch::randn_like(real)).clamp(-1, 1); };
  EXPECT_GT(tx::ssim(noisy(0.05), real)[0].item<double>(), tx::ssim(noisy(0.3), real)[0].item<double>());
  EXPECT_THROW(tx::ssim(torch::zeros({1, 3, 8, 20}), torch::zeros({1, 3, 8, 20})), sdn::Error);
  EXPECT_THROW(tx::psnr(fake, real.slice(3, 0, 10)), sdn::Error);
}

TEST(TexturalSchedule, ConstantThenLinearDecay) {
  const double lr = 2e-4;
  EXPECT_EQ(tx::textural_learning_rate(lr, 0), lr);
  EXPECT_EQ(tx::textural_learning_rate(lr, 100), lr);  // epoch 101 (1-based) still at the base rate
  EXPECT_NEAR(tx::textural_learning_rate(lr, 101), lr * 0.99, 1e-15);
  EXPECT_NEAR(tx::textural_learning_rate(lr, 150), lr * 0.5, 1e-15);
  EXPECT_NEAR(tx::textural_learning_rate(lr, 199), lr * 0.01, 1e-15);
  EXPECT_EQ(tx::textural_learning_rate(lr, 200), 0.0);
  EXPECT_NEAR(tx::textural_learning_rate(1.0, 3, 2, 4), 0.75, 1e-15);
  EXPECT_THROW(tx::textural_learning_rate(lr, -1), sdn::Error);
}

TEST(TexturalVgg, LoaderErrorsAndTorchvisionFile) {
  auto opts = sdn_test::tiny_textural(/*vgg=*/true);
  opts.allow_seeded_vgg = false;
  opts.vgg_weights = sdn_test::temp_file("absent_vgg19.h5");
  try {
    tx::TexturalNets nets(opts);
    FAIL() << "a missing VGG file must be an error";
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("textural.vgg_weights"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("pth_to_h5.py"), std::string::npos);
  }
  opts.vgg_weights.clear();
  EXPECT_THROW(tx::TexturalNets{opts}, sdn::UsageError);

  // A torchvision-like file: the 13 convolutions plus later layers and a classifier, which are ignored.
  sdn_test::TempFiles tmp{{sdn_test::temp_file("vgg19.h5"), sdn_test::temp_file("bad_vgg19.h5")}};
  struct Full : torch::nn::Module {
    Full() {
      features = register_module("features", tx::Vgg19(77)->features);
      register_module("classifier", torch::nn::Sequential(torch::nn::Linear(2, 4)));
    }
    torch::nn::Sequential features{nullptr};
  };
  Full full;
  full.features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(512, 512, 3)));  // features.30
  sdn::models::export_weights(full, "vgg19", tmp.paths[0]);
  tx::Vgg19 vgg(5);
  tx::load_vgg19_weights(*vgg, tmp.paths[0]);
  sdn_test::expect_bit_equal(*vgg, *tx::Vgg19(77));

  tx::InstanceEncoder wrong;
  sdn::models::export_weights(*wrong, "textural_netE", tmp.paths[1]);
  try {
    tx::load_vgg19_weights(*vgg, tmp.paths[1]);
    FAIL();
  } catch (const sdn::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("features.28.weight is missing"), std::string::npos) << e.what();
  }
}

// The derenderer network and its decoding: state_dict names/shapes equal the golden list derived from the
// original module definitions (bench/derender_reference.py), the original's counts, seeded init, the split of
// the 1552 outputs in the original's order, the FFD against a direct Bernstein evaluation, the pose decode
// inverting the data-side targets, the ROI filling 256 of 384 px in the training view, mesh choice and losses.
// (test_derender_reference.cpp compares against the original's code itself.)
// Regenerate the golden list: /usr/bin/python3 bench/derender_reference.py params > tests/golden/derender.params.txt
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "data/derender_targets.hpp"
#include "data/mesh_ffd.hpp"
#include "data/mesh_vehicles.hpp"
#include "models/derender/camera.hpp"
#include "models/derender/derenderer.hpp"
#include "models/derender/ffd.hpp"
#include "models/derender/losses.hpp"
#include "models/derender/reproject.hpp"
#include "models/derender/silhouette.hpp"
#include "models/state_dict.hpp"

using namespace sdn::models::derender;

namespace {

std::string golden(const std::string& name) {
  const char* src = std::getenv("SDN_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/tests/golden/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

Derenderer& shared_model() {
  static Derenderer model{DerendererOptions().seed(5)};
  return model;
}

}  // namespace

TEST(Derenderer, StateDictEqualsTheOriginal) {
  const auto want = lines_of(golden("derender.params.txt"));
  ASSERT_FALSE(want.empty()) << "cannot read tests/golden/derender.params.txt (set SDN_SOURCE_DIR)";
  const auto got = lines_of(sdn::models::state_dict_listing(*shared_model()));
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i)
    ASSERT_EQ(i < got.size() ? got[i] : "<none>", i < want.size() ? want[i] : "<none>") << "entry " << i;
}

TEST(Derenderer, CountsMatchTheOriginal) {
  EXPECT_EQ(sdn::models::parameter_count(*shared_model()), 11839312);
  int64_t entries = 0;
  for (const auto& [name, t] : sdn::models::state_dict(*shared_model()))
    entries += name.find("num_batches_tracked") == std::string::npos;
  EXPECT_EQ(entries, 108);  // PyTorch 0.4's state_dict (no num_batches_tracked)
  EXPECT_EQ(shared_model()->out_size(), 1552);
}

TEST(Derenderer, InitIsAFunctionOfTheSeed) {
  Derenderer a{DerendererOptions().seed(5)}, b{DerendererOptions().seed(6)};
  const auto sa = sdn::models::state_dict(*a), s5 = sdn::models::state_dict(*shared_model()),
             sb = sdn::models::state_dict(*b);
  bool differs = false;
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_TRUE(torch::equal(sa[i].second, s5[i].second)) << sa[i].first;
    differs = differs || !torch::equal(sa[i].second, sb[i].second);
  }
  EXPECT_TRUE(differs);
  // torchvision init: BN weight 1, bias 0; conv std sqrt(2 / fan_out).
  EXPECT_TRUE(torch::equal(a->net->bn1->weight, torch::ones({64})));
  EXPECT_NEAR(a->net->layer4[0]->as<BasicBlockImpl>()->conv1->weight.std().item<double>(), std::sqrt(2.0 / (512 * 9)),
              2e-3);
}

TEST(Derenderer, ForwardAndDecodeFollowTheOriginalSplit) {
  auto& m = shared_model();
  m->eval();
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto images = torch::randn({2, 3, 64, 64});
  const auto roi = torch::tensor({{-0.05, 0.1, 0.05, 0.3}, {0.0, -0.2, 0.1, -0.1}});
  torch::Tensor mroi, droi;
  roi_centre_size(roi, mroi, droi);
  EXPECT_TRUE(torch::allclose(mroi[0], torch::tensor({0.0, 0.2}).to(torch::kFloat)));
  EXPECT_TRUE(torch::allclose(droi[1], torch::tensor({0.1, 0.1}).to(torch::kFloat)));
  const auto raw = m->forward(images, mroi, droi);
  ASSERT_EQ(raw.sizes(), torch::IntArrayRef({2, 1552}));

  // A recognisable raw vector: 0, 1, 2, ... per column.
  const auto r = torch::arange(1552, torch::kFloat).unsqueeze(0).repeat({2, 1}) + 1;
  const auto o = m->decode(r);
  EXPECT_TRUE(torch::allclose(o.theta_deltas[0], torch::tensor({1.0f, 2.0f}) / std::sqrt(5.0f)));
  EXPECT_TRUE(torch::equal(o.translation2ds[0], torch::tensor({3.0f, 4.0f})));
  EXPECT_TRUE(torch::equal(o.log_scales[0], torch::tensor({5.0f, 6.0f, 7.0f})));
  EXPECT_EQ(o.log_depths[0][0].item<float>(), 8.0f);
  EXPECT_EQ(o.class_logits[0][7].item<float>(), 16.0f);
  EXPECT_NEAR(o.class_probs.sum(1)[1].item<float>(), 1.0f, 1e-6);
  ASSERT_EQ(o.ffd_coeffs.sizes(), torch::IntArrayRef({2, 8, 192}));
  EXPECT_EQ(o.ffd_coeffs[0][0][0].item<float>(), 17.0f);   // column 16
  EXPECT_EQ(o.ffd_coeffs[0][1][0].item<float>(), 209.0f);  // mesh 1 starts 192 later
  EXPECT_THROW(m->decode(torch::zeros({2, 100})), c10::Error);
}

TEST(DerenderFfd, MatchesDirectBernsteinAndThePlainTwin) {
  const auto mesh = sdn::data::vehicle_mesh(sdn::data::VehicleKind::kVan);
  const int64_t nv = static_cast<int64_t>(mesh.vertices.size());
  auto v = torch::empty({nv, 3});
  for (int64_t i = 0; i < nv; ++i)
    for (int a = 0; a < 3; ++a) v[i][a] = mesh.vertices[size_t(i)][a];
  const auto basis = ffd_basis(v);
  ASSERT_EQ(basis.sizes(), torch::IntArrayRef({nv, 64}));
  EXPECT_TRUE(torch::allclose(basis.sum(1), torch::ones({nv}), 1e-5, 1e-5));  // partition of unity

  torch::manual_seed(3);
  const auto coeffs = (torch::randn({192}) * 0.05).requires_grad_();
  const auto out = ffd_deform(basis, coeffs);
  // The direct evaluation: sum_ijk C(3,i)C(3,j)C(3,k) b^i (1-b)^(3-i) ... (P0 + dP), dP from the plain twin's
  // constraint (itself tested in test_data_mesh).
  sdn::data::FfdCoefficients raw{};
  for (int n = 0; n < 192; ++n) raw[size_t(n)] = coeffs[n].item<float>();
  const auto dp = sdn::data::constrain_ffd(raw);
  const double c3[4] = {1, 3, 3, 1};
  for (int64_t i = 0; i < nv; i += 7) {
    double want[3] = {0, 0, 0};
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int c = 0; c < 4; ++c) {
          const auto& p = mesh.vertices[size_t(i)];
          const double w = c3[a] * std::pow(0.5 + p[0], a) * std::pow(0.5 - p[0], 3 - a) * c3[b] *
                           std::pow(0.5 + p[1], b) * std::pow(0.5 - p[1], 3 - b) * c3[c] * std::pow(0.5 + p[2], c) *
                           std::pow(0.5 - p[2], 3 - c);
          const int ijk[3] = {a, b, c};
          for (int k = 0; k < 3; ++k) want[k] += w * (ijk[k] / 3.0 - 0.5 + dp[size_t(sdn::data::ffd_index(k, a, b, c))]);
        }
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(out[i][k].item<double>(), want[k], 2e-6) << "vertex " << i;
  }
  // Constrained displacements equal the plain twin's.
  const auto tc = constrain_ffd(coeffs.detach()).reshape({192});
  for (int n = 0; n < 192; ++n) ASSERT_NEAR(tc[n].item<float>(), dp[size_t(n)], 1e-7);
  // Differentiable in the coefficients; the constraints tie the gradients of mirrored coefficients.
  out.sum().backward();
  ASSERT_TRUE(coeffs.grad().defined());
  EXPECT_GT(coeffs.grad().abs().sum().item<float>(), 0);
}

namespace {

sdn::data::ObjectGT sample_object() {
  sdn::data::ObjectGT o;
  o.track_id = 3;
  o.x3d = 2.5f;
  o.y3d = 1.7f;
  o.z3d = 14.0f;
  o.height3d = 1.5f;
  o.width3d = 1.7f;
  o.length3d = 4.2f;
  o.rotation_y = -1.1f;
  return o;
}

// Outputs that reproduce the targets exactly (what a perfect network would predict).
DerendererOutputs outputs_from(const sdn::data::derender::Targets& t) {
  DerendererOutputs o;
  o.theta_deltas = torch::tensor({t.theta_delta[0], t.theta_delta[1]}).reshape({1, 2});
  o.translation2ds = torch::tensor({t.translation2d[0], t.translation2d[1]}).reshape({1, 2});
  o.log_scales = torch::tensor({t.log_scale[0], t.log_scale[1], t.log_scale[2]}).reshape({1, 3});
  o.log_depths = torch::tensor({t.log_depth}).reshape({1, 1});
  o.class_logits = torch::zeros({1, 8});
  o.class_probs = torch::softmax(o.class_logits, 1);
  o.ffd_coeffs = torch::zeros({1, 8, 192});
  return o;
}

}  // namespace

TEST(DerenderPose, InvertsTheDataTargets) {
  const auto obj = sample_object();
  const sdn::data::Intrinsics K;
  const auto t = sdn::data::derender::object_targets(obj, {150, 780, 210, 900}, K);
  const auto o = outputs_from(t);
  const auto mroi = torch::tensor({t.mroi_norm[0], t.mroi_norm[1]}).reshape({1, 2});
  const auto droi = torch::tensor({t.droi_norm[0], t.droi_norm[1]}).reshape({1, 2});
  const Pose p = decode_pose(o, mroi, droi);
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(p.translations[0][a].item<float>(), t.translation[size_t(a)], 1e-4);
    EXPECT_NEAR(p.scales[0][a].item<float>(), t.scale[size_t(a)], 1e-5);
  }
  EXPECT_NEAR(p.thetas[0][0].item<float>(), t.theta, 1e-6);
  EXPECT_NEAR(p.rotations[0][2].item<float>(), t.rotation[2], 1e-6);
  const double alpha = -(t.theta - std::atan(t.translation[0] / t.translation[2]));
  EXPECT_NEAR(p.alphas[0][0].item<float>(), std::remainder(alpha, 2 * M_PI), 1e-5);
  EXPECT_GE(p.alphas[0][0].item<float>(), -M_PI);
}

TEST(DerenderPose, TrainingViewPutsTheRoiOn256Of384Pixels) {
  const float f = 725.0f;
  const auto mroi = torch::tensor({0.02f, 0.25f}).reshape({1, 2});
  const auto droi = torch::tensor({0.08f, 0.2f}).reshape({1, 2});  // wider than tall: width spans 256 px
  Pose pose;
  pose.depths = torch::full({1, 1}, 12.0f);
  torch::Tensor centre, zoom;
  training_view(pose, mroi, droi, torch::full({1}, f), 256, centre, zoom);
  // Points on the rays through the ROI's left/right edges and top edge (at its centre column), at some depth.
  auto ray = [](float v, float u, float d) { return torch::tensor({d * u, -d * v, -d}); };
  const auto pts = torch::stack({ray(0.02f, 0.15f, 11), ray(0.02f, 0.35f, 13), ray(-0.02f, 0.25f, 12)}, 0);
  const auto none = torch::zeros({3});
  const auto q = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f});
  const auto v = perspective_transform(pts, torch::ones({3}), q, none, centre[0], zoom[0]);
  const auto px = project_to_pixels(v, 384 / (2.0 * f), 384);
  EXPECT_NEAR(px[0][0].item<float>(), 63.5f, 1e-3);    // left edge: pixels 64..319 are the ROI
  EXPECT_NEAR(px[1][0].item<float>(), 319.5f, 1e-3);
  EXPECT_NEAR(px[0][1].item<float>(), 191.5f, 1e-3);   // the ROI centre row is the render's centre
  EXPECT_NEAR(px[2][1].item<float>(), 191.5f - 0.04f / 0.2f * 256, 1e-3);  // 0.2 wide spans 256 px
}

TEST(DerenderMeshChoice, ArgmaxOrInverseCdf) {
  DerendererOutputs o;
  o.class_logits = torch::log(torch::tensor({{0.1f, 0.6f, 0.3f}, {0.5f, 0.2f, 0.3f}}));
  o.class_probs = torch::softmax(o.class_logits, 1);
  auto c = choose_meshes(o, {});
  EXPECT_EQ(c.index[0].item<int64_t>(), 1);
  EXPECT_EQ(c.index[1].item<int64_t>(), 0);
  EXPECT_NEAR(c.log_probs[0].item<float>(), std::log(0.6f), 1e-6);
  c = choose_meshes(o, {0.05, 0.75});
  EXPECT_EQ(c.index[0].item<int64_t>(), 0);
  EXPECT_EQ(c.index[1].item<int64_t>(), 2);
  c = choose_meshes(o, {0.69, 0.999999});
  EXPECT_EQ(c.index[0].item<int64_t>(), 1);
  EXPECT_EQ(c.index[1].item<int64_t>(), 2);
  EXPECT_NEAR(c.log_probs[1].item<float>(), std::log(0.3f), 1e-6);
}

TEST(DerenderLosses, TermsAsTheOriginal) {
  const auto t = sdn::data::derender::object_targets(sample_object(), {150, 780, 210, 900}, {});
  auto o = outputs_from(t);
  GeometryTargets g{o.theta_deltas, o.translation2ds, o.log_scales, o.log_depths};
  auto terms = geometry_losses(o, g);
  ASSERT_EQ(terms.size(), 4u);
  EXPECT_EQ(terms[0].first, "theta_delta_loss");
  EXPECT_EQ(terms[3].first, "depth_loss");
  EXPECT_EQ(total(terms).item<float>(), 0.0f);
  g.log_scales = g.log_scales + torch::tensor({0.0f, 0.0f, 0.3f});
  EXPECT_NEAR(geometry_losses(o, g)[2].second.item<float>(), 0.09f / 3, 1e-6);

  // Masks: 2x2 crops centred in a 4x4 render; the ignore mask replicates its edge into the padding.
  const auto rendered = torch::ones({1, 1, 4, 4});
  const auto mask = torch::ones({1, 1, 2, 2});
  auto ignore = torch::zeros({1, 1, 2, 2});
  ignore[0][0][0][0] = 1;
  const auto padded = pad_to_render(ignore, 4, true);
  EXPECT_EQ(padded.sum().item<float>(), 4.0f);  // the top-left corner pixel and its 3 replicas
  const auto per = mask_losses(rendered, mask, ignore, 0.1);
  // 16 pixels: 4 ignored (the top-left block), 3 mask pixels match, 9 wrong -> 0.1 * 9 / 16.
  EXPECT_NEAR(per[0].item<float>(), 0.1f * 9 / 16, 1e-6);
  const auto lp = torch::tensor({-0.5f}, torch::requires_grad());
  const auto ffd = torch::full({1, 8, 192}, 0.1f);
  auto r = reprojection_losses(per, lp, ffd, 10.0);
  EXPECT_EQ(r[0].first, "class_reward");
  EXPECT_NEAR(r[0].second.item<float>(), -0.5f * 0.1f * 9 / 16, 1e-7);
  EXPECT_NEAR(r[2].second.item<float>(), 10 * 0.01f, 1e-6);
  r[0].second.backward();
  EXPECT_NEAR(lp.grad()[0].item<float>(), 0.1f * 9 / 16, 1e-7);  // REINFORCE: d/dlogp = the detached loss
}

// The C++ textural nets and losses compute what the plain-PyTorch transcription of the original
// (bench/textural_reference.py) computes with the same weights on a seeded tiny batch: the edge map, netE's
// instance-pooled features, netG's image, every netD feature at both scales, the six loss terms (with a
// seeded VGG-19) and netD's InstanceNorm running statistics after the original's sequence of D calls.
// Skipped when /usr/bin/python3 lacks torch or h5py. Tolerance: |c++ - python| <= 1e-4 (1 + max |python|).
#include <gtest/gtest.h>

#include "core/h5.hpp"
#include "models/textural/textural_loss.hpp"
#include "models/weights_io.hpp"
#include "test_models_textural_util.hpp"
#include "test_models_util.hpp"

namespace {

namespace h5 = sdn::h5;
namespace tx = sdn::models::textural;

using sdn_test::read_h5_tensor;
using sdn_test::write_h5_tensor;

// The shared tolerance, for outputs Python returns flattened or as another float type.
void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  sdn_test::expect_close_to_python(got.detach().to(torch::kFloat).reshape(want.sizes()), want, what);
}

}  // namespace

TEST(PythonReference, TexturalNetsAndLossesAgree) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  tx::TexturalNets nets(sdn_test::tiny_textural(/*vgg=*/true));
  auto batch = sdn_test::tiny_batch(31);
  sdn_test::TempFiles tmp{{sdn_test::temp_file("tg.h5"), sdn_test::temp_file("te.h5"), sdn_test::temp_file("td.h5"),
                           sdn_test::temp_file("tv.h5"), sdn_test::temp_file("tx.h5"), sdn_test::temp_file("ty.h5")}};
  sdn::models::export_weights(*nets.netG, "textural_netG", tmp.paths[0]);
  sdn::models::export_weights(*nets.netE, "textural_netE", tmp.paths[1]);
  sdn::models::export_weights(*nets.netD, "textural_netD", tmp.paths[2]);
  sdn::models::export_weights(*nets.vgg, "vgg19", tmp.paths[3]);
  auto le = tx::label_and_edges(batch.labels, batch.instances);
  {
    auto f = h5::create_truncate(tmp.paths[4]);
    write_h5_tensor(f, "real", batch.real, tmp.paths[4]);
    write_h5_tensor(f, "inst", batch.instances, tmp.paths[4]);
    write_h5_tensor(f, "label_edge", le, tmp.paths[4]);
    write_h5_tensor(f, "rest", torch::cat({tx::one_hot_map(batch.pose, tx::kPoseChannels), batch.normals}, 1),
                 tmp.paths[4]);
  }
  const std::string cmd = "/usr/bin/python3 " + sdn_test::source_dir() +
                          "/bench/textural_reference.py forward --tiny --weights-g " + tmp.paths[0] + " --weights-e " +
                          tmp.paths[1] + " --weights-d " + tmp.paths[2] + " --weights-vgg " + tmp.paths[3] +
                          " --input " + tmp.paths[4] + " --output " + tmp.paths[5];
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // The same sequence as the reference: E, G, the three D calls of the losses, then D on the real image.
  auto gen = nets.generate(batch);
  auto terms = tx::textural_losses(*nets.netD, nets.vgg.get(), gen.label_edges, gen.fake, batch.real);
  auto d = nets.netD->forward(tx::discriminator_input(gen.label_edges, batch.real));

  auto out = h5::open_read(tmp.paths[5]);
  const auto& p = tmp.paths[5];
  expect_close(gen.label_edges.slice(1, 14, 15), read_h5_tensor(out, "edges", p), "edge map");
  expect_close(gen.features, read_h5_tensor(out, "feat", p), "netE pooled features");
  expect_close(gen.fake, read_h5_tensor(out, "fake", p), "netG output");
  for (size_t i = 0; i < d.size(); ++i)
    for (size_t j = 0; j < d[i].size(); ++j)
      expect_close(d[i][j], read_h5_tensor(out, "d_" + std::to_string(i) + "_" + std::to_string(j), p),
                   "netD scale " + std::to_string(i) + " layer " + std::to_string(j));
  for (const auto& [name, value] : terms.named()) {
    std::string key = "loss_" + name;
    key[key.find('/')] = '_';
    expect_close(value, read_h5_tensor(out, key, p), name);
  }
  for (const auto& [name, t] : sdn::models::state_dict(*nets.netD))
    if (name.find("running_") != std::string::npos) expect_close(t, read_h5_tensor(out, "state_d/" + name, p), name);
}

// The released <epoch>_net_{G,E,D}.pth path: PyTorch 0.4.0-style files (no num_batches_tracked) convert with
// scripts/pth_to_h5.py, which recognises each net by its keys, and import bit-exactly.
TEST(PythonReference, TexturalWeightsRoundTripThroughPth) {
  if (!sdn_test::python_has_torch()) GTEST_SKIP() << "/usr/bin/python3 lacks torch or h5py";
  auto other = sdn_test::tiny_textural();
  other.seed = 99;
  tx::TexturalNets a(sdn_test::tiny_textural()), b(other);
  sdn_test::perturb_buffers(*a.netD, 3);
  sdn_test::perturb_buffers(*a.netG, 4);
  {
    // InstanceNorm never counts batches, and pth_to_h5.py restores the missing counters as 0.
    torch::NoGradGuard no_grad;
    for (auto& item : a.netD->named_buffers()) if (!item.value().is_floating_point()) item.value().zero_();
    for (auto& item : a.netG->named_buffers()) if (!item.value().is_floating_point()) item.value().zero_();
  }
  const std::vector<std::pair<std::string, std::pair<torch::nn::Module*, torch::nn::Module*>>> nets{
      {"textural_netG", {a.netG.get(), b.netG.get()}},
      {"textural_netE", {a.netE.get(), b.netE.get()}},
      {"textural_netD", {a.netD.get(), b.netD.get()}}};
  const auto scripts = sdn_test::source_dir() + "/scripts/";
  for (const auto& [name, pair] : nets) {
    sdn_test::TempFiles tmp{{sdn_test::temp_file(name + ".h5"), sdn_test::temp_file(name + ".pth"),
                             sdn_test::temp_file(name + "_back.h5")}};
    sdn::models::export_weights(*pair.first, name, tmp.paths[0]);
    const std::string to_pth = "/usr/bin/python3 " + scripts + "h5_to_pth.py --in " + tmp.paths[0] + " --out " +
                               tmp.paths[1] + " --no-num-batches-tracked >/dev/null";
    const std::string to_h5 =
        "/usr/bin/python3 " + scripts + "pth_to_h5.py --state " + tmp.paths[1] + " --out " + tmp.paths[2] + " >/dev/null";
    ASSERT_EQ(std::system(to_pth.c_str()), 0) << to_pth;
    ASSERT_EQ(std::system(to_h5.c_str()), 0) << to_h5;
    EXPECT_EQ(sdn::models::weights_model_name(tmp.paths[2]), name);
    sdn::models::import_weights(*pair.second, name, tmp.paths[2]);
    sdn_test::expect_bit_equal(*pair.first, *pair.second);
  }
}

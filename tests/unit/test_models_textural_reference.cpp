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

void write_tensor(hid_t file, const std::string& name, const torch::Tensor& t, const std::string& path) {
  auto x = t.detach().to(torch::kFloat).contiguous();
  std::vector<hsize_t> dims(x.sizes().begin(), x.sizes().end());
  auto ds = h5::create_dataset(file, name, h5::native<float>(), dims);
  h5::write_all(ds, h5::native<float>(), x.data_ptr(), path);
}

torch::Tensor read_tensor(hid_t file, const std::string& name, const std::string& path) {
  auto ds = h5::open_dataset(file, name, path);
  auto d = h5::dims(ds);
  auto t = torch::empty(std::vector<int64_t>(d.begin(), d.end()), torch::kFloat);
  h5::read_all(ds, h5::native<float>(), t.data_ptr(), path + ": " + name);
  return t;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  auto g = got.detach().to(torch::kFloat).reshape(want.sizes());
  const double scale = 1.0 + want.abs().max().item<double>();
  const double err = (g - want).abs().max().item<double>();
  EXPECT_LE(err, 1e-4 * scale) << what << ": max |diff| " << err << ", max |python| " << scale - 1.0;
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
    write_tensor(f, "real", batch.real, tmp.paths[4]);
    write_tensor(f, "inst", batch.instances, tmp.paths[4]);
    write_tensor(f, "label_edge", le, tmp.paths[4]);
    write_tensor(f, "rest", torch::cat({tx::one_hot_map(batch.pose, tx::kPoseChannels), batch.normals}, 1),
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
  expect_close(gen.label_edges.slice(1, 14, 15), read_tensor(out, "edges", p), "edge map");
  expect_close(gen.features, read_tensor(out, "feat", p), "netE pooled features");
  expect_close(gen.fake, read_tensor(out, "fake", p), "netG output");
  for (size_t i = 0; i < d.size(); ++i)
    for (size_t j = 0; j < d[i].size(); ++j)
      expect_close(d[i][j], read_tensor(out, "d_" + std::to_string(i) + "_" + std::to_string(j), p),
                   "netD scale " + std::to_string(i) + " layer " + std::to_string(j));
  for (const auto& [name, value] : terms.named()) {
    std::string key = "loss_" + name;
    key[key.find('/')] = '_';
    expect_close(value, read_tensor(out, key, p), name);
  }
  for (const auto& [name, t] : sdn::models::state_dict(*nets.netD))
    if (name.find("running_") != std::string::npos) expect_close(t, read_tensor(out, "state_d/" + name, p), name);
}

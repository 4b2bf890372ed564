// Implements the textural nets bundle (see textural_nets.hpp).
#include "models/textural/textural_nets.hpp"

#include "core/error.hpp"
#include "models/textural/textural_inputs.hpp"

namespace sdn::models::textural {

TexturalNets::TexturalNets(const TexturalNetsOptions& o) : options(o) {
  const int64_t g_in = kLabelChannels + 1 + o.feat_num + kPoseChannels + 3;
  netG = GlobalGenerator(GlobalGeneratorOptions()
                             .input_nc(g_in)
                             .ngf(o.ngf)
                             .n_downsampling(o.n_downsample_global)
                             .n_blocks(o.n_blocks_global)
                             .seed(o.seed));
  netE = InstanceEncoder(
      InstanceEncoderOptions().output_nc(o.feat_num).nef(o.nef).n_downsampling(o.n_downsample_E).seed(o.seed + 1));
  netD = MultiscaleDiscriminator(MultiscaleDiscriminatorOptions()
                                     .input_nc(kLabelChannels + 1 + 3)
                                     .ndf(o.ndf)
                                     .n_layers(o.n_layers_D)
                                     .num_D(o.num_D)
                                     .seed(o.seed + 2));
  if (o.use_vgg) {
    vgg = Vgg19(o.seed + 3);
    if (!o.vgg_weights.empty() || !o.allow_seeded_vgg) load_vgg19_weights(*vgg, o.vgg_weights);
    vgg->eval();
  }
}

Generated TexturalNets::generate(const TexturalBatch& b) {
  Generated g;
  g.label_edges = label_and_edges(b.labels, b.instances);
  g.features = netE->forward(b.real, b.instances);
  g.fake = netG->forward(generator_input(g.label_edges, g.features, b.pose, b.normals));
  return g;
}

std::vector<torch::Tensor> TexturalNets::generator_parameters() const {
  auto p = netG->parameters();
  for (auto& e : netE->parameters()) p.push_back(e);
  return p;
}

std::vector<torch::Tensor> TexturalNets::discriminator_parameters() const { return netD->parameters(); }

void TexturalNets::train(bool on) {
  netG->train(on);
  netE->train(on);
  netD->train(on);
}

void TexturalNets::to(const torch::Device& device) {
  netG->to(device);
  netE->to(device);
  netD->to(device);
  if (vgg) vgg->to(device);
}

}  // namespace sdn::models::textural

// Implements the original semantic model (see resnet_ppm_seg.hpp).
#include "models/resnet_ppm_seg.hpp"

#include "models/init.hpp"

namespace sdn::models {

namespace F = torch::nn::functional;

ResnetPpmSegImpl::ResnetPpmSegImpl(const ResnetPpmSegOptions& options_) : options(options_) {
  encoder = register_module("encoder", ResnetDilated(ResnetDilatedOptions()));
  decoder = register_module("decoder", PpmDeepsup(PpmDeepsupOptions(options.num_classes())));
  // One generator, encoder first: the initial weights are a pure function of the seed.
  auto gen = init::make_generator(options.seed());
  encoder->init_weights(gen);
  decoder->init_weights(gen);
  label_sync_batchnorms(*this);
}

SegOutput ResnetPpmSegImpl::forward_train(const torch::Tensor& images) {
  auto features = encoder->forward(images);
  SegOutput out;
  out.main = torch::log_softmax(decoder->logits(features[3]), /*dim=*/1);
  out.deepsup = torch::log_softmax(decoder->deepsup_logits(features[2]), /*dim=*/1);
  return out;
}

torch::Tensor ResnetPpmSegImpl::forward_infer(const torch::Tensor& images, std::array<int64_t, 2> out_size) {
  auto features = encoder->forward(images);
  auto logits = decoder->logits(features[3]);
  logits = F::interpolate(logits, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{out_size[0], out_size[1]})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  return torch::softmax(logits, /*dim=*/1);
}

}  // namespace sdn::models

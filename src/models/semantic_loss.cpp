// Implements the semantic loss and pixel accuracy (see semantic_loss.hpp).
#include "models/semantic_loss.hpp"

#include <sstream>

#include "core/error.hpp"

namespace sdn::models {
namespace {

void check_grid(const torch::Tensor& log_probs, const torch::Tensor& labels, const char* which) {
  const bool ok = log_probs.dim() == 4 && labels.dim() == 3 && labels.size(0) == log_probs.size(0) &&
                  labels.size(1) == log_probs.size(2) && labels.size(2) == log_probs.size(3) &&
                  labels.scalar_type() == torch::kLong;
  if (!ok) {
    std::ostringstream s;
    s << "semantic loss: the " << which << " output " << log_probs.sizes() << " and the labels " << labels.sizes()
      << " (" << labels.scalar_type() << ") are not on the same grid";
    throw Error(s.str(), "labels must be int64 N x H/8 x W/8, made by make_semantic_batch with label_stride 8");
  }
}

torch::Tensor nll(const torch::Tensor& log_probs, const torch::Tensor& labels, int64_t ignore_index, int64_t valid) {
  if (valid == 0) return log_probs.sum() * 0.0;  // keeps the graph (and every rank's backward) intact
  return torch::nll_loss2d(log_probs, labels, /*weight=*/{}, at::Reduction::Mean, ignore_index);
}

}  // namespace

torch::Tensor pixel_accuracy(const torch::Tensor& scores, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  auto preds = scores.argmax(1);
  auto valid = labels >= 0;
  auto correct = (valid & (preds == labels)).sum().to(torch::kFloat64);
  auto total = valid.sum().to(torch::kFloat64);
  return (correct / total.clamp_min(1.0)).to(torch::kFloat32);
}

SemanticLossTerms semantic_loss(const SegOutput& output, const torch::Tensor& labels,
                                const SemanticLossOptions& options) {
  check_grid(output.main, labels, "main");
  SemanticLossTerms t;
  t.valid_pixels = (labels != options.ignore_index).sum().item<int64_t>();
  auto main = nll(output.main, labels, options.ignore_index, t.valid_pixels);
  t.total = main;
  t.main = main.detach();
  if (output.deepsup.defined()) {
    check_grid(output.deepsup, labels, "deep-supervision");
    auto deepsup = nll(output.deepsup, labels, options.ignore_index, t.valid_pixels);
    t.total = main + deepsup * options.deep_sup_scale;
    t.deepsup = deepsup.detach();
  }
  t.pixel_acc = pixel_accuracy(output.main.detach(), labels);
  return t;
}

}  // namespace sdn::models

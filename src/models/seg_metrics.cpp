// Implements the confusion-matrix metrics (see seg_metrics.hpp).
#include "models/seg_metrics.hpp"

#include "core/error.hpp"

namespace sdn::models {

ConfusionMatrix::ConfusionMatrix(int64_t num_classes)
    : num_classes_(num_classes), counts_(torch::zeros({num_classes, num_classes}, torch::kLong)) {
  if (num_classes < 1) throw Error("ConfusionMatrix: num_classes must be positive");
}

void ConfusionMatrix::add(const torch::Tensor& predictions, const torch::Tensor& labels) {
  if (!predictions.sizes().equals(labels.sizes()))
    throw Error("ConfusionMatrix: predictions and labels differ in shape");
  torch::NoGradGuard no_grad;
  auto pred = predictions.reshape({-1}).to(torch::kCPU, torch::kLong);
  auto label = labels.reshape({-1}).to(torch::kCPU, torch::kLong);
  auto valid = label >= 0;
  pred = pred.masked_select(valid);
  label = label.masked_select(valid);
  if (label.numel() == 0) return;
  const int64_t c = num_classes_;
  if (label.max().item<int64_t>() >= c || pred.min().item<int64_t>() < 0 || pred.max().item<int64_t>() >= c)
    throw Error(
        "ConfusionMatrix: a label or prediction lies outside [0, " + std::to_string(c) + ")",
        "labels must be shifted 3D-SDN ids (-1 = ignored) and the model must have " + std::to_string(c) + " classes");
  counts_ += torch::bincount(label * c + pred, /*weights=*/{}, /*minlength=*/c * c).view({c, c});
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  if (other.num_classes_ != num_classes_) throw Error("ConfusionMatrix: cannot merge different class counts");
  counts_ += other.counts_;
}

int64_t ConfusionMatrix::valid_pixels() const { return counts_.sum().item<int64_t>(); }

double ConfusionMatrix::pixel_accuracy() const {
  const auto valid = valid_pixels();
  return valid == 0 ? 0.0 : static_cast<double>(counts_.trace().item<int64_t>()) / static_cast<double>(valid);
}

std::vector<double> ConfusionMatrix::intersections() const {
  std::vector<double> out;
  auto diag = counts_.diagonal();
  for (int64_t k = 0; k < num_classes_; ++k) out.push_back(static_cast<double>(diag[k].item<int64_t>()));
  return out;
}

std::vector<double> ConfusionMatrix::unions() const {
  std::vector<double> out;
  auto labelled = counts_.sum(1);
  auto predicted = counts_.sum(0);
  auto diag = counts_.diagonal();
  for (int64_t k = 0; k < num_classes_; ++k)
    out.push_back(static_cast<double>((labelled[k] + predicted[k] - diag[k]).item<int64_t>()));
  return out;
}

std::vector<double> ConfusionMatrix::iou() const {
  auto inter = intersections();
  auto uni = unions();
  std::vector<double> out;
  for (int64_t k = 0; k < num_classes_; ++k) out.push_back(inter[k] / (uni[k] + 1e-10));
  return out;
}

double ConfusionMatrix::mean_iou() const {
  double sum = 0.0;
  for (double v : iou()) sum += v;
  return sum / static_cast<double>(num_classes_);
}

}  // namespace sdn::models

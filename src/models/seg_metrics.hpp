// Segmentation metrics as the original vkitti_eval.py reports them: a confusion matrix accumulated over the
// whole evaluation set, pixel accuracy over valid labels, per-class IoU = sum(I) / sum(U) over the set, and
// mIoU = the mean over ALL classes (a class never predicted nor labelled counts as IoU 0, as in the original).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace sdn::models {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);

  // Adds predictions (class ids) against labels of the same shape; labels < 0 are ignored, together with the
  // predictions at those pixels. Throws sdn::Error for a prediction or label outside [0, num_classes).
  void add(const torch::Tensor& predictions, const torch::Tensor& labels);
  // Adds another matrix's counts (e.g. after summing the per-rank matrices).
  void merge(const ConfusionMatrix& other);

  int64_t num_classes() const { return num_classes_; }
  // int64 CPU [label][prediction] counts; contiguous, so a reducer may sum it across ranks in place.
  torch::Tensor& counts() { return counts_; }
  const torch::Tensor& counts() const { return counts_; }

  int64_t valid_pixels() const;
  double pixel_accuracy() const;              // correct / valid (0 when nothing was added)
  std::vector<double> intersections() const;  // per class: label == pred == c
  std::vector<double> unions() const;         // per class: label == c or pred == c
  std::vector<double> iou() const;            // I / (U + 1e-10), as the original
  double mean_iou() const;                    // mean of iou() over all classes

 private:
  int64_t num_classes_;
  torch::Tensor counts_;
};

}  // namespace sdn::models

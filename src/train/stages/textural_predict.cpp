// `sdn eval` and `sdn predict` of the textural stage: the centre crop of each frame of the split is
// reconstructed from its own label/instance/pose maps and image features (as the original's test.py, nets in
// train() mode under NoGradGuard). Eval: mean L1 (test.py, [-1, 1] units), PSNR and SSIM, summed over ranks.
// Predict: OUT/<world>/<variation>/<frame>.png (reconstruction) and <frame>_strip.png (image | reconstruction).
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/image_io.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "models/textural/image_metrics.hpp"
#include "models/textural/textural_inputs.hpp"
#include "train/stages/textural_stage.hpp"

namespace sdn::train {
namespace {

namespace tx = models::textural;

// util.tensor2im: (x + 1) / 2 * 255, clipped, truncated to uint8; [3,H,W] -> interleaved RGB.
std::vector<std::uint8_t> to_rgb8(const torch::Tensor& image) {
  auto x = ((image.to(torch::kCPU, torch::kFloat) + 1) / 2.0 * 255.0).clamp(0, 255).to(torch::kUInt8);
  x = x.permute({1, 2, 0}).contiguous();
  return {x.data_ptr<std::uint8_t>(), x.data_ptr<std::uint8_t>() + x.numel()};
}

}  // namespace

torch::Tensor TexturalStage::reconstruct(const tx::TexturalBatch& b) {
  torch::NoGradGuard no_grad;
  // train() mode normalises with per-image statistics (as test.py) but also updates the running ones: keep
  // the checkpointed buffers independent of when and how often a run evaluates.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;
  for (auto* m : {static_cast<torch::nn::Module*>(nets_.netG.get()), static_cast<torch::nn::Module*>(nets_.netE.get())})
    for (auto& buf : m->buffers()) saved.emplace_back(buf, buf.clone());
  auto fake = nets_.generate(b).fake;
  for (auto& [buf, copy] : saved) buf.copy_(copy);
  return fake;
}

torch::Tensor TexturalStage::generate_edited(const tx::TexturalBatch& source, const tx::TexturalBatch& edited,
                                             std::vector<std::int64_t>* missing) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;  // as reconstruct(): buffers stay as loaded
  for (auto* m : {static_cast<torch::nn::Module*>(nets_.netG.get()), static_cast<torch::nn::Module*>(nets_.netE.get())})
    for (auto& buf : m->buffers()) saved.emplace_back(buf, buf.clone());
  const auto table = tx::instance_feature_table(nets_.netE->model->forward(source.real), source.instances);
  const auto features = tx::paint_instance_features(table, edited.instances, missing);
  auto fake = nets_.netG->forward(
      tx::generator_input(tx::label_and_edges(edited.labels, edited.instances), features, edited.pose, edited.normals));
  for (auto& [buf, copy] : saved) buf.copy_(copy);
  return fake;
}

EvalResult TexturalStage::evaluate(const data::ShardSet& eval, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  const std::int64_t n = options.limit > 0 ? std::min(options.limit, eval.size()) : eval.size();
  auto range = data::eval_range(n, comm.rank(), comm.size());
  double l1 = 0, psnr = 0, ssim = 0, finite = 0;
  data::Sample s;
  for (std::int64_t i = range.begin; i < range.end; ++i) {
    eval.read(i, fields(), s);
    const auto info = eval.info(i);
    auto b = batch({planes(s, &info, nullptr)});
    auto fake = reconstruct(b);
    l1 += tx::l1_error(fake, b.real).item<double>();
    const double p = tx::psnr(fake, b.real).item<double>();
    if (std::isfinite(p)) psnr += p, finite += 1;
    ssim += tx::ssim(fake, b.real).item<double>();
  }
  auto sum = dist::allreduce_sum(comm, {l1, psnr, ssim, finite});
  const double count = std::max<double>(1, static_cast<double>(n));
  EvalResult r;
  const double mean_l1 = sum[0] / count, mean_psnr = sum[3] > 0 ? sum[1] / sum[3] : INFINITY, mean_ssim = sum[2] / count;
  r.metrics = {{"L1", mean_l1}, {"PSNR", mean_psnr}, {"SSIM", mean_ssim}, {"samples", static_cast<double>(n)}};
  char line[200];
  std::snprintf(line, sizeof line, "L1 %.6f  PSNR %.3f dB  SSIM %.4f  (%lld samples, %dx%d centre crops)\n", mean_l1,
                mean_psnr, mean_ssim, static_cast<long long>(n), options_.crop_width, options_.crop_height);
  r.table = line;
  std::ostringstream csv;
  csv << "metric,value\nL1," << mean_l1 << "\nPSNR," << mean_psnr << "\nSSIM," << mean_ssim << "\nsamples," << n << "\n";
  r.csv = csv.str();
  return r;
}

std::string TexturalStage::predict(const data::ShardSet& set, const InferenceOptions& options,
                                   const dist::Communicator& comm) {
  std::vector<std::int64_t> indices = options.indices;
  if (indices.empty())
    for (std::int64_t i = 0; i < (options.limit > 0 ? std::min(options.limit, set.size()) : set.size()); ++i)
      indices.push_back(i);
  auto mine = data::eval_range(static_cast<std::int64_t>(indices.size()), comm.rank(), comm.size());
  data::Sample s;
  for (std::int64_t k = mine.begin; k < mine.end; ++k) {
    const auto i = indices[static_cast<size_t>(k)];
    if (i < 0 || i >= set.size())
      throw UsageError("--indices: " + std::to_string(i) + " is outside the split's " + std::to_string(set.size()) +
                       " samples");
    set.read(i, fields(), s);
    const auto info = set.info(i);
    auto p = planes(s, &info, nullptr);
    auto fake = reconstruct(batch({p}));
    const int w = p.width, h = p.height;
    data::img::Image8 recon{w, h, 3, to_rgb8(fake[0])};
    data::img::Image8 strip{2 * w, h, 3, std::vector<std::uint8_t>(static_cast<size_t>(2) * w * h * 3)};
    for (int y = 0; y < h; ++y) {
      const size_t row = static_cast<size_t>(y) * w * 3;
      auto* out = &strip.pixels[static_cast<size_t>(y) * 2 * w * 3];
      const auto begin = static_cast<std::ptrdiff_t>(row), end = static_cast<std::ptrdiff_t>(row + w * 3);
      std::copy(p.rgb.begin() + begin, p.rgb.begin() + end, out);
      std::copy(recon.pixels.begin() + begin, recon.pixels.begin() + end, out + static_cast<size_t>(w) * 3);
    }
    const std::string dir = options.out + "/" + info.world + "/" + info.variation;
    fs::ensure_writable_dir(dir);
    char name[32];
    std::snprintf(name, sizeof name, "%05d", info.frame);
    data::img::write_png_rgb8(dir + "/" + name + ".png", recon);
    data::img::write_png_rgb8(dir + "/" + name + "_strip.png", strip);
  }
  return "reconstructions of " + std::to_string(indices.size()) + " frame(s) in " + options.out;
}

}  // namespace sdn::train

// `sdn-platform-test`: the real `sdn` command line plus one extra stage, "platform-test", that exercises every
// part of the stage platform the 3D-SDN branches rely on, with a model small enough for CI:
//  - an object-item dataset (one item per car/van of at least 4x4 pixels; many per frame);
//  - two phases per step, the second reusing the first's forward (as pix2pixHD's D update reuses G's output);
//  - a schedule point at half the steps: phase A first trains only its head, then everything, with per-group
//    learning rates (head 1, trunk 0.1), so resuming must rebuild the right optimiser groups;
//  - a loss term that only rank 1 reports ("A/rank1"), which every rank must all-reduce as 0 where absent;
//  - its own config section ([platform]) with validation and a resume-relevant key.
#include <cmath>
#include <cstdio>
#include <fstream>

#include "cli/dispatch.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/items.hpp"
#include "data/loader.hpp"
#include "data/shard_set.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_session.hpp"
#include "train/stage_registry.hpp"

namespace sdn::train {
namespace {

constexpr int kCrop = 8;  // object crops are resampled to kCrop x kCrop

struct PlatformOptions {
  double lr = 0.05;
  double trunk_lr_scale = 0.1;  // the trunk's group after the schedule point
  int min_side = 4;             // objects smaller than this (in pixels) are not items
};

PlatformOptions& po(TrainConfig& c) { return stage_options<PlatformOptions>(c); }

struct NetAImpl : torch::nn::Module {
  NetAImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)));
    head = register_module("head", torch::nn::Linear(4, 1));
  }
  torch::Tensor forward(const torch::Tensor& x) { return head(torch::relu(conv1(x)).mean({2, 3})).squeeze(1); }
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(NetA);

struct NetBImpl : torch::nn::Module {
  NetBImpl() { fc = register_module("fc", torch::nn::Linear(2, 1)); }
  torch::Tensor forward(const torch::Tensor& x) { return fc(x).squeeze(1); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(NetB);

class PlatformStage : public Stage {
 public:
  PlatformStage(const TrainConfig& c, const StageContext& ctx)
      : options_(stage_options<PlatformOptions>(c)), device_(ctx.device), rank_(ctx.rank) {
    torch::manual_seed(c.train.seed);
    a_ = NetA();
    b_ = NetB();
  }

  std::string name() const override { return "platform-test"; }
  data::Fields fields() const override {
    data::Fields f;
    f.rgb = f.objects = true;
    f.classes = false;
    return f;
  }
  data::AugmentOptions augment() const override {
    data::AugmentOptions a;
    a.short_sides = {};
    a.flip = true;
    a.brightness = a.contrast = a.saturation = a.hue = 0;
    return a;
  }
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"a", a_.get()}, {"b", b_.get()}}; }
  std::vector<Phase>& phases() override { return phases_; }
  std::vector<std::string> terms() const override { return {"A/size", "A/rank1", "B/class"}; }

  std::shared_ptr<const std::vector<data::Item>> items(const data::ShardSet& train) override {
    const float side = static_cast<float>(options_.min_side);
    return std::make_shared<const std::vector<data::Item>>(data::object_items(train, [side](const data::shard::ObjectRow& o) {
      return (o.class_id == 2 || o.class_id == 12) && o.right - o.left + 1 >= side && o.bottom - o.top + 1 >= side;
    }));
  }

  void begin_step(std::int64_t) override { a_out_.clear(); }

  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>& samples) override {
    auto [crops, size, van] = batch(samples);
    LossTerms l;
    if (phase == 0) {
      auto out = a_->forward(crops);
      if (a_out_.size() <= micro) a_out_.resize(micro + 1);
      a_out_[micro] = out.detach();  // phase B reuses this forward
      l.total = torch::mse_loss(out, size);
      l.terms = {{"A/size", l.total.item<double>()}};
      if (rank_ == 1) l.terms.emplace_back("A/rank1", 1.0);
    } else {
      auto x = torch::stack({a_out_.at(micro), crops.mean({1, 2, 3})}, 1);
      l.total = torch::binary_cross_entropy_with_logits(b_->forward(x), van);
      l.terms = {{"B/class", l.total.item<double>()}};
    }
    return l;
  }

  double lr(size_t, std::int64_t step, std::int64_t total) const override {
    return poly_lr(options_.lr, step, total, 0.9);
  }
  std::vector<std::int64_t> schedule_points(std::int64_t total) const override { return {total / 2}; }
  void enter_schedule(std::int64_t step, std::int64_t total) override {
    const bool all = step >= total / 2;
    phases_.clear();
    for (auto& p : a_->conv1->parameters()) p.set_requires_grad(all);
    Phase a;
    a.name = "A";
    a.params = trainable_parameters(*a_);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(a_->head->parameters());
    if (all) {
      groups.emplace_back(a_->conv1->parameters());
      a.lr_scale = {1.0, options_.trunk_lr_scale};
    }
    a.optimizer = std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(options_.lr).momentum(0.9));
    phases_.push_back(std::move(a));
    Phase b;
    b.name = "B";
    b.params = trainable_parameters(*b_);
    b.optimizer = std::make_unique<torch::optim::Adam>(b_->parameters(), torch::optim::AdamOptions(options_.lr));
    phases_.push_back(std::move(b));
  }

  EvalResult evaluate(const data::ShardSet& eval, const InferenceOptions& o, const dist::Communicator& comm) override {
    torch::NoGradGuard no_grad;
    auto all = items(eval);
    const std::int64_t n = o.limit > 0 ? std::min<std::int64_t>(o.limit, all->size()) : all->size();
    auto range = data::eval_range(n, comm.rank(), comm.size());
    double sum = 0;
    data::Sample s;
    for (std::int64_t i = range.begin; i < range.end; ++i) {
      const auto& item = (*all)[static_cast<size_t>(i)];
      eval.read(item.frame, fields(), s);
      s.object = item.object;
      auto [crops, size, van] = batch({s});
      sum += torch::mse_loss(a_->forward(crops), size).item<double>();
    }
    auto total = dist::allreduce_sum(comm, {sum});
    EvalResult r;
    r.metrics = {{"size_mse", n > 0 ? total[0] / n : 0.0}, {"items", static_cast<double>(n)}};
    char line[96];
    std::snprintf(line, sizeof line, "size_mse %.6f over %lld items\n", r.metrics[0].second, static_cast<long long>(n));
    r.table = line;
    r.csv = std::string("size_mse,") + std::to_string(r.metrics[0].second) + "\n";
    return r;
  }
  std::string predict(const data::ShardSet& set, const InferenceOptions& o, const dist::Communicator& comm) override {
    auto r = evaluate(set, o, comm);
    if (comm.rank() == 0) {
      fs::ensure_writable_dir(o.out);
      fs::write_atomic(o.out + "/summary.txt", r.table);
    }
    return "summary in " + o.out + "/summary.txt";
  }
  torch::Device device() const override { return device_; }

 private:
  // Crops of the samples' objects (nearest resampling to kCrop^2), their log box areas and van labels.
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> batch(const std::vector<data::Sample>& samples) const {
    const auto n = static_cast<std::int64_t>(samples.size());
    auto crops = torch::empty({n, 3, kCrop, kCrop});
    auto size = torch::empty({n}), van = torch::empty({n});
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& s = samples[static_cast<size_t>(i)];
      SDN_CHECK(s.object >= 0 && s.object < static_cast<int>(s.objects.size()), "platform-test: sample without its object");
      const auto& o = s.objects[static_cast<size_t>(s.object)];
      auto crop = crops[i];
      auto c = crop.accessor<float, 3>();
      for (int y = 0; y < kCrop; ++y)
        for (int x = 0; x < kCrop; ++x) {
          const int sx = std::clamp(static_cast<int>(o.left + (o.right - o.left) * (x + 0.5f) / kCrop), 0, s.width - 1);
          const int sy = std::clamp(static_cast<int>(o.top + (o.bottom - o.top) * (y + 0.5f) / kCrop), 0, s.height - 1);
          for (int ch = 0; ch < 3; ++ch)
            c[ch][y][x] = s.rgb[(static_cast<size_t>(sy) * s.width + sx) * 3 + ch] / 255.0f;
        }
      size[i] = std::log((o.right - o.left + 1) * (o.bottom - o.top + 1)) / 5.0f;
      van[i] = o.class_id == 12 ? 1.0f : 0.0f;
    }
    return {crops.to(device_), size.to(device_), van.to(device_)};
  }

  PlatformOptions options_;
  torch::Device device_;
  int rank_;
  NetA a_{nullptr};
  NetB b_{nullptr};
  std::vector<Phase> phases_;
  std::vector<torch::Tensor> a_out_;
};

StageSpec platform_spec() {
  StageSpec s;
  s.name = "platform-test";
  s.summary = "test stage: object items, two phases, a schedule point";
  s.default_options = PlatformOptions{};
  s.add_options = [](opt::Schema<TrainConfig>& schema) {
    using C = TrainConfig;
    schema.add("platform.lr", "base learning rate", [](C& c) -> auto& { return po(c).lr; }, opt::Range{0, 10})
        .add("platform.trunk_lr_scale", "trunk group's rate after the schedule point",
             [](C& c) -> auto& { return po(c).trunk_lr_scale; }, opt::Range{0, 10})
        .add("platform.min_side", "smallest object side that makes an item", [](C& c) -> auto& { return po(c).min_side; },
             opt::Range{1, 1000});
  };
  s.validate = [](const TrainConfig& c) {
    std::vector<std::string> e;
    if (stage_options<PlatformOptions>(c).lr == 0) e.push_back("platform.lr: must be positive");
    return e;
  };
  s.make = [](const TrainConfig& c, const StageContext& ctx) -> std::unique_ptr<Stage> {
    return std::make_unique<PlatformStage>(c, ctx);
  };
  return s;
}

}  // namespace
}  // namespace sdn::train

int main(int argc, char** argv) {
  sdn::train::register_stage(sdn::train::platform_spec());
  return sdn::cli::dispatch(argc, argv);
}

// The train layer without MPI ranks: the stage registry and stage-owned config (schemas, --help, validation,
// the resume entries' deny-list), the step runner (declared terms, zero-filled absent terms, per-group learning
// rates, two phases), the schedule helpers, the deadline policy, and the checkpoint state round trip.
#include <gtest/gtest.h>

#include "ckpt/store.hpp"
#include "models/weights_io.hpp"
#include "core/error.hpp"
#include "train/config.hpp"
#include "train/loop.hpp"
#include "train/stage_registry.hpp"
#include "train/step_runner.hpp"
#include "train/stages/semantic_options.hpp"
#include "train/init_weights.hpp"
#include "train/stop.hpp"
#include "train/train_state.hpp"

using namespace sdn;
using namespace sdn::train;

namespace {

const std::vector<std::string> kRequired = {"--run-dir", "r", "--data.shards", "s"};

std::vector<std::string> with_required(std::vector<std::string> args) {
  args.insert(args.end(), kRequired.begin(), kRequired.end());
  return args;
}

bool has_entry(const std::vector<std::string>& entries, const std::string& key) {
  for (const auto& e : entries)
    if (e.rfind(key + " = ", 0) == 0) return true;
  return false;
}

// A two-phase stage of two scalars: phase "P" fits p to 3, phase "Q" fits q to p's value of this step (the
// forward of phase P reused, like a GAN's D update). It reports "P/odd" only on odd micro-batches.
struct ToyStage : Stage {
  ToyStage() {
    m.p = m.register_parameter("p", torch::zeros({1}));
    m.q = m.register_parameter("q", torch::zeros({1}));
    enter_schedule(0, 10);
  }
  struct M : torch::nn::Module {
    torch::Tensor p, q;
  } m;
  std::vector<Phase> ph;
  torch::Tensor p_out;
  int begins = 0, ends = 0;
  std::string name() const override { return "toy"; }
  data::Fields fields() const override { return {}; }
  data::AugmentOptions augment() const override { return {}; }
  std::vector<std::pair<std::string, torch::nn::Module*>> modules() override { return {{"m", &m}}; }
  std::vector<Phase>& phases() override { return ph; }
  std::vector<std::string> terms() const override { return {"P/loss", "P/odd", "Q/loss"}; }
  void begin_step(std::int64_t) override { ++begins; }
  void end_step() override { ++ends; }
  LossTerms loss(size_t phase, size_t micro, const std::vector<data::Sample>&) override {
    LossTerms l;
    if (phase == 0) {
      p_out = m.p * 1.0;
      l.total = (p_out - 3).pow(2).sum();
      l.terms = {{"P/loss", l.total.item<double>()}};
      if (micro % 2 == 1) l.terms.emplace_back("P/odd", 2.0);
    } else {
      l.total = (m.q - p_out.detach()).pow(2).sum();
      l.terms = {{"Q/loss", l.total.item<double>()}};
    }
    return l;
  }
  double lr(size_t phase, std::int64_t, std::int64_t) const override { return phase == 0 ? 0.1 : 0.5; }
  void enter_schedule(std::int64_t, std::int64_t) override {
    ph.clear();
    Phase a;
    a.name = "P";
    a.params = {{"p", m.p}};
    a.optimizer = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{m.p}, torch::optim::SGDOptions(1.0));
    a.lr_scale = {0.5};
    ph.push_back(std::move(a));
    Phase b;
    b.name = "Q";
    b.params = {{"q", m.q}};
    b.optimizer = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{m.q}, torch::optim::SGDOptions(1.0).momentum(0.9));
    ph.push_back(std::move(b));
  }
  EvalResult evaluate(const data::ShardSet&, const InferenceOptions&, const dist::Communicator&) override { return {}; }
  std::string predict(const data::ShardSet&, const InferenceOptions&, const dist::Communicator&) override { return ""; }
  torch::Device device() const override { return torch::kCPU; }
};

}  // namespace

TEST(StageRegistry, SemanticIsBuiltInAndUnknownStagesNameTheKnownOnes) {
  auto names = stage_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "semantic");
  try {
    stage_spec("nosuch");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("semantic"), std::string::npos) << e.what();
  }
}

TEST(StageConfig, TheStagePicksItsSchemaAndHelpShowsItsKeys) {
  auto help = parse_train_args({"--stage", "semantic", "--help"});
  ASSERT_TRUE(help.help);
  EXPECT_NE(help.usage.find("model.arch"), std::string::npos);
  EXPECT_NE(help.usage.find("optim.lr"), std::string::npos);
  auto parsed = parse_train_args(with_required({"--model.arch", "drn_d_22", "--optim.lr", "0.02"}));
  EXPECT_EQ(stage_options<SemanticOptions>(parsed.config).model.arch, "drn_d_22");
  EXPECT_DOUBLE_EQ(stage_options<SemanticOptions>(parsed.config).optim.lr, 0.02);
}

TEST(StageConfig, UnknownStageKeysAndBadValuesAreReportedTogether) {
  try {
    parse_train_args(with_required({"--model.arch", "nosuch", "--platform.lr", "1"}));
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("model.arch"), std::string::npos) << m;
    EXPECT_NE(m.find("platform.lr"), std::string::npos) << m;
  }
}

TEST(StageConfig, ResumeEntriesCoverEveryStageKeyButTheDenyList) {
  auto c = parse_train_args(with_required({})).config;
  auto entries = resume_entries(c);
  for (const auto& key : {"stage", "model.arch", "model.sync_bn", "optim.lr", "augment.hue", "train.seed",
                          "train.global_batch", "data.split"})
    EXPECT_TRUE(has_entry(entries, key)) << key;
  for (const auto& key : {"run-dir", "data.shards", "data.threads", "train.threads", "train.device", "train.log_every",
                          "train.per_rank_batch", "ckpt.keep_last", "stop.margin_seconds", "model.init_weights"})
    EXPECT_FALSE(has_entry(entries, key)) << key;
  // A changed stage key shows up as a difference naming it.
  auto other = parse_train_args(with_required({"--augment.hue", "0.05"})).config;
  auto diff = ckpt::config_differences(entries, resume_entries(other));
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0].rfind("augment.hue", 0), 0u) << diff[0];
}

TEST(StageConfig, WorldSizeChecksCombineCommonAndStageRules) {
  auto c = parse_train_args(with_required({"--train.global_batch", "4", "--train.per_rank_batch", "2"})).config;
  EXPECT_TRUE(validate_for_world(c, 2).empty());
  EXPECT_FALSE(validate_for_world(c, 3).empty());
  // The semantic stage's own rule: BatchNorm needs more than one sample per normalisation group.
  auto one = parse_train_args(with_required({"--train.global_batch", "2", "--train.per_rank_batch", "1",
                                             "--model.sync_bn", "false"})).config;
  EXPECT_FALSE(validate_for_world(one, 2).empty());
}

TEST(StepRunner, RunsPhasesInTurnWithDeclaredTermsAndGroupRates) {
  ToyStage s;
  StepRunner r(s, nullptr);
  std::vector<std::vector<data::Sample>> micro(2, std::vector<data::Sample>(1));
  auto terms = r.run(0, 10, micro);
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_DOUBLE_EQ(terms[0], 9.0);        // (0-3)^2 on both micro-batches
  EXPECT_DOUBLE_EQ(terms[1], 1.0);        // reported on micro-batch 1 only: (0 + 2) / 2
  EXPECT_DOUBLE_EQ(terms[2], 0.0);
  EXPECT_EQ(s.begins, 1);
  EXPECT_EQ(s.ends, 1);
  // p: grad 2(p-3) = -6 per micro-batch, averaged; lr 0.1 x group scale 0.5 -> p = 0.3.
  EXPECT_NEAR(s.m.p.item<double>(), 0.3, 1e-6);
  // q follows phase P's output of the same step, which was computed before p's update (p_out = 0).
  EXPECT_NEAR(s.m.q.item<double>(), 0.0, 1e-6);
  auto lrs = r.learning_rates(0, 10);
  ASSERT_EQ(lrs.size(), 2u);
  EXPECT_EQ(lrs[0].first, "P");
  EXPECT_DOUBLE_EQ(lrs[0].second, 0.05);
  EXPECT_DOUBLE_EQ(lrs[1].second, 0.5);
}

TEST(StepRunner, AnUndeclaredTermIsAnError) {
  struct Bad : ToyStage {
    std::vector<std::string> terms() const override { return {"P/loss", "Q/loss"}; }
  } s;
  StepRunner r(s, nullptr);
  std::vector<std::vector<data::Sample>> micro(2, std::vector<data::Sample>(1));
  EXPECT_THROW(r.run(0, 10, micro), Error);
}

TEST(TrainState, CollectAndRestoreRoundTripModulesAndOptimiserState) {
  ToyStage a;
  StepRunner r(a, nullptr);
  std::vector<std::vector<data::Sample>> micro(1, std::vector<data::Sample>(1));
  r.run(0, 10, micro);
  r.run(1, 10, micro);
  auto state = collect_state(a);
  for (auto& [k, t] : state) t = t.clone();  // as a checkpoint file would hold them: no aliasing with `a`
  EXPECT_TRUE(state.count("m/p"));
  EXPECT_TRUE(state.count("optim/Q/q/momentum_buffer"));
  ToyStage b;
  restore_state(b, state, "mem");
  EXPECT_TRUE(torch::equal(a.m.p, b.m.p));
  // The restored momentum continues exactly: one more step on both gives the same q.
  StepRunner rb(b, nullptr);
  r.run(2, 10, micro);
  rb.run(2, 10, micro);
  EXPECT_TRUE(torch::equal(a.m.q, b.m.q));
  state.erase("m/p");
  EXPECT_THROW(restore_state(b, state, "mem"), Error);
}

TEST(Schedule, PolyAndDeadline) {
  EXPECT_DOUBLE_EQ(poly_lr(0.01, 0, 100, 0.9), 0.01);
  EXPECT_NEAR(poly_lr(0.01, 50, 100, 0.9), 0.01 * std::pow(0.5, 0.9), 1e-15);
  EXPECT_EQ(poly_lr(0.01, 100, 100, 0.9), 0.0);
  StopEstimates est{2.0, 4.0};
  EXPECT_FALSE(deadline_reached(100, 0, est, 10));          // no deadline
  EXPECT_FALSE(deadline_reached(100, 100 + 19.1, est, 10));  // 1.5*2 + 1.5*4 + 10 = 19 s needed
  EXPECT_TRUE(deadline_reached(100, 100 + 18.9, est, 10));
}

TEST(Progress, LineShowsEveryTermAndPhaseRate) {
  auto line = progress_line(5, 10, 2.0, {{"loss", 1.5}, {"pixel_acc", 0.25}}, {{"model", 0.01}}, 65);
  EXPECT_NE(line.find("loss 1.5000 pixel_acc 0.2500"), std::string::npos) << line;
  EXPECT_NE(line.find("lr 1.000e-02"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 00:01:05"), std::string::npos) << line;
  auto two = progress_line(5, 10, 2.0, {{"G/gan", 1}}, {{"G", 2e-4}, {"D", 1e-4}}, 0);
  EXPECT_NE(two.find("lr/G 2.000e-04 lr/D 1.000e-04"), std::string::npos) << two;
}

// model.init_weights = MODULE=FILE,... for stages with several modules (the textural stage's netG, netE, netD).
TEST(InitWeights, OneFilePerModuleIsParsedAndChecked) {
  const std::vector<std::string> modules = {"netG", "netE", "netD"};
  EXPECT_TRUE(initial_weight_files("", modules).empty());
  const auto files = initial_weight_files("netG=/w/g.h5,netD=d=1.h5", modules);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files.at("netG"), "/w/g.h5");
  EXPECT_EQ(files.at("netD"), "d=1.h5");  // only the first '=' splits
  for (const char* bad : {"/w/g.h5", "netX=g.h5", "netG=g.h5,netG=h.h5", "netG=", "netG=g.h5,", "=g.h5"}) {
    try {
      initial_weight_files(bad, modules);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("model.init_weights"), std::string::npos) << e.what();
      EXPECT_NE(e.hint().find("netG=FILE"), std::string::npos) << e.hint();
    }
  }
}

// model.init_weights / init_map / init_skip as every stage applies them (train/init_weights.hpp).
TEST(InitWeights, MapAndSkipGoThroughTheMappedImportStrictly) {
  struct Inner : torch::nn::Module {
    Inner() { conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 1))); }
    torch::nn::Conv2d conv{nullptr};
  };
  struct Outer : torch::nn::Module {
    Outer() {
      encoder = register_module("encoder", std::make_shared<Inner>());
      head = register_module("head", torch::nn::Linear(2, 1));
    }
    std::shared_ptr<Inner> encoder;
    torch::nn::Linear head{nullptr};
  };
  const std::string file = ::testing::TempDir() + "/sdn-init-weights.h5";
  Inner source;
  torch::NoGradGuard no_grad;
  source.conv->weight.fill_(0.5);
  models::export_weights(source, "inner", file);

  Outer target;
  InitConfig init;
  init.weights = file;
  EXPECT_EQ(import_initial_weights(target, "outer", InitConfig{}), "");  // nothing asked, nothing done
  // Without a map the file's keys (conv.*) are not the model's (encoder.conv.*): a strict error naming them.
  init.map = {};
  init.skip = "head\\..*";
  EXPECT_THROW(import_initial_weights(target, "outer", init), Error);
  init.map = {"=encoder."};
  const std::string report = import_initial_weights(target, "outer", init);
  EXPECT_NE(report.find("loaded 2"), std::string::npos) << report;
  EXPECT_TRUE(torch::equal(target.encoder->conv->weight, source.conv->weight));
  std::remove(file.c_str());
}

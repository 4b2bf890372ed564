// Implements the training loop (see loop.hpp for its invariants). Trainer::run reads as the list of its parts:
// set up, resume, then per step: load, step (train/step_runner), vote, log, evaluate, schedule, save.
#include "train/loop.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "ckpt/store.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"
#include "core/parse.hpp"
#include "data/loader.hpp"
#include "dist/collectives.hpp"
#include "train/metrics_log.hpp"
#include "train/run_checkpoint.hpp"
#include "train/stage_registry.hpp"
#include "train/stage_data.hpp"
#include "train/step_runner.hpp"
#include "train/stop.hpp"

namespace sdn::train {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The outcome of the per-step all-reduce: terms averaged over ranks, and the votes.
struct Vote {
  std::vector<double> terms;
  bool signal = false, deadline = false, limit = false, periodic = false;
  bool stop() const { return signal || deadline || limit; }
};

// One run of the loop: the state Trainer::run's parts share.
class Run {
 public:
  Run(const TrainConfig& config, Stage& stage, const dist::Communicator& comm, const TrainEnv& env)
      : c_(config), stage_(stage), comm_(comm), env_(env), root_(comm.rank() == 0), world_(comm.size()),
        journal_(journal::path_in(config.run_dir)),
        // Node-local staging first (collective): then every rank reads its node's copy of the shards.
        shards_dir_(env.stage_to.empty() ? config.data.shards : stage_data(config, env.stage_to, comm, journal_)),
        shards_(shards_dir_, config.data.split), store_(config.run_dir + "/ckpt") {
    if (c_.train.eval_every > 0) eval_set_ = std::make_unique<data::ShardSet>(shards_dir_, c_.data.eval_split);
    items_ = stage_.items(shards_);
    total_ = c_.total_steps(items_ ? static_cast<std::int64_t>(items_->size()) : shards_.size());
    micro_ = c_.train.global_batch / (world_ * c_.train.per_rank_batch);
    entries_ = resume_entries(c_);
    auto points = stage_.schedule_points(total_);
    points_.insert(points.begin(), points.end());
  }

  RunResult execute() {
    resume();
    if (start_step_ >= total_) {
      if (root_) spdlog::info("training already complete ({} steps)", total_);
      return {kExitOk, "complete", start_step_};
    }
    prepare();
    RunResult result{kExitOk, "complete", start_step_};
    for (std::int64_t step = start_step_; step < total_; ++step) {
      const auto t0 = std::chrono::steady_clock::now();
      data::RankBatch batch = loader_->next();
      auto terms = steps_->run(step, total_, batch.micro);
      const std::int64_t done = step + 1;
      ++steps_this_run_;
      const double secs = seconds_since(t0);
      est_.step_seconds = est_.step_seconds == 0 ? secs : 0.9 * est_.step_seconds + 0.1 * secs;
      Vote v = vote(std::move(terms), done);
      log(done, v);
      if (eval_set_ && done % c_.train.eval_every == 0) evaluate(done);
      if (done == total_) break;
      enter_schedule_point(done);
      if (v.stop() || v.periodic) save(done);
      if (v.stop()) {
        result = {kExitResumable, v.signal ? "signal" : v.deadline ? "deadline" : "step_limit", done};
        break;
      }
    }
    if (result.exit_code == kExitOk) {
      save(total_);
      result.step = total_;
    }
    journal_end(result);
    return result;
  }

 private:
  void resume() {
    auto rp = resume_or_start(stage_, c_, entries_, store_, comm_, total_);
    start_step_ = rp.step;
    position_ = rp.loader_position;
    wall_before_ = rp.wall_before;
    if (root_ && !rp.path.empty())
      spdlog::info("resumed from {} at step {}/{} (written by {} rank(s), now {}{})", rp.path, start_step_, total_,
                   rp.saved_world, world_, rp.forced.empty() ? "" : "; config differences forced");
  }

  // Reducers, loader, stop machinery and logs for the steps of this process.
  void prepare() {
    steps_ = std::make_unique<StepRunner>(stage_, &comm_);
    data::LoaderOptions lo;
    lo.rank = comm_.rank();
    lo.world = world_;
    lo.micro_batches = static_cast<int>(micro_);
    lo.global_batch = c_.train.global_batch;
    lo.seed = c_.train.seed;
    lo.aug = stage_.augment();
    lo.fields = stage_.fields();
    lo.threads = c_.data.threads;
    lo.prefetch = c_.data.prefetch;
    lo.items = items_;
    loader_ = std::make_unique<data::Loader>(shards_, lo, position_);
    signals_ = std::make_unique<SignalFlag>(c_.stop.signals);
    if (root_) {
      fs::ensure_writable_dir(c_.run_dir + "/logs");
      metrics_ = std::make_unique<MetricsLog>(c_.run_dir + "/logs/metrics.tsv", start_step_);
    }
    t_start_ = log_t0_ = std::chrono::steady_clock::now();
    last_ckpt_wall_ = wall();
  }

  double wall() const { return wall_before_ + seconds_since(t_start_); }

  // One tiny all-reduce per step: loss terms (averaged), stop vote, checkpoint vote (rank 0's clock decides).
  Vote vote(std::vector<double> terms, std::int64_t done) {
    const size_t nt = terms.size();
    terms.push_back(signals_->raised());
    terms.push_back(deadline_reached(now_seconds(), env_.deadline, est_, c_.stop.margin_seconds));
    terms.push_back(c_.stop.max_steps_this_run > 0 && steps_this_run_ >= c_.stop.max_steps_this_run);
    terms.push_back(root_ && c_.ckpt.every_minutes > 0 && wall() - last_ckpt_wall_ >= 60 * c_.ckpt.every_minutes);
    auto sum = dist::allreduce_sum(comm_, std::move(terms));
    Vote v;
    for (size_t i = 0; i < nt; ++i) v.terms.push_back(sum[i] / world_);
    v.signal = sum[nt] > 0, v.deadline = sum[nt + 1] > 0, v.limit = sum[nt + 2] > 0;
    v.periodic = sum[nt + 3] > 0 || (c_.ckpt.every_steps > 0 && done % c_.ckpt.every_steps == 0);
    return v;
  }

  // Rank 0: every step into metrics.tsv; every log_every steps a progress line and a journal entry.
  void log(std::int64_t done, const Vote& v) {
    if (!root_) return;
    const auto& names = steps_->term_names();
    const auto lrs = steps_->learning_rates(done - 1, total_);
    std::vector<std::pair<std::string, double>> row;
    for (size_t i = 0; i < names.size(); ++i) row.emplace_back(names[i], v.terms[i]);
    for (const auto& [phase, lr] : lrs) row.emplace_back("lr/" + phase, lr);
    metrics_->add(done, row);
    if (log_sums_.size() != names.size()) log_sums_.assign(names.size(), 0.0);
    for (size_t i = 0; i < names.size(); ++i) log_sums_[i] += v.terms[i];
    ++log_count_;
    if (done % c_.train.log_every != 0 && done != total_) return;
    const double secs = seconds_since(log_t0_);
    const double ips = secs > 0 ? log_count_ * c_.train.global_batch / secs : 0;
    std::vector<std::pair<std::string, double>> means;
    for (size_t i = 0; i < names.size(); ++i) means.emplace_back(names[i], log_sums_[i] / log_count_);
    const double eta = ips > 0 ? (total_ - done) * c_.train.global_batch / ips : 0;
    spdlog::info("{}", progress_line(done, total_, ips, means, lrs, eta));
    auto e = journal::make(journal::kind::kProgress);
    e["step"] = done;
    e["total_steps"] = total_;
    e["images_per_s"] = ips;
    e["world_size"] = world_;  // the planner divides by it to get per-GPU throughput
    e["loss"] = means.front().second;
    e["lr"] = lrs.empty() ? 0.0 : lrs.front().second;
    for (const auto& [name, value] : means) e["terms"][name] = value;
    for (const auto& [phase, lr] : lrs) e["lrs"][phase] = lr;
    e["job_id"] = env_.job_id;
    journal::append(journal_, e);
    log_sums_.assign(names.size(), 0.0);
    log_count_ = 0;
    log_t0_ = std::chrono::steady_clock::now();
  }

  void evaluate(std::int64_t done) {
    InferenceOptions o;
    o.limit = c_.train.eval_samples;
    auto r = stage_.evaluate(*eval_set_, o, comm_);
    if (root_) spdlog::info("eval at step {}:\n{}", done, r.table);
  }

  // Before the checkpoint of `done`: a checkpoint always holds the optimiser state of the segment it starts.
  void enter_schedule_point(std::int64_t done) {
    if (!points_.count(done)) return;
    stage_.enter_schedule(done, total_);
    steps_->rebuild_reducers();
    if (root_) spdlog::info("schedule point at step {}: {} phase(s) rebuilt", done, stage_.phases().size());
  }

  void save(std::int64_t step) {
    const auto t0 = std::chrono::steady_clock::now();
    auto rng = gather_rng(comm_, stage_.device());  // collective
    if (root_) {
      CheckpointFacts f;
      f.step = step;
      f.epoch = loader_->sampler().epoch_of_step(std::max<std::int64_t>(0, step - 1));
      f.loader_position = loader_->position();
      f.world_size = world_;
      f.micro_batches = micro_;
      f.wall_seconds = wall();
      f.code_version = env_.code_version;
      metrics_->flush();
      auto path = store_.save(make_checkpoint(stage_, c_, entries_, f, std::move(rng)),
                              {c_.ckpt.keep_last, c_.ckpt.milestone_every}, env_.write_hook);
      const double secs = seconds_since(t0);
      auto e = journal::make(journal::kind::kCheckpoint);
      e["step"] = step;
      e["seconds"] = secs;
      e["path"] = path;
      journal::append(journal_, e);
      spdlog::info("checkpoint {} ({:.2f} s)", path, secs);
    }
    // Nobody leaves before the file is durable: exit 3 on any rank must mean a valid checkpoint exists.
    // A failed save on rank 0 throws there and never reaches this barrier; the others are then aborted by cli/.
    dist::barrier(comm_);
    est_.checkpoint_seconds = seconds_since(t0);
    last_ckpt_wall_ = wall();
  }

  void journal_end(const RunResult& result) {
    if (!root_) return;
    auto e = journal::make(journal::kind::kTrainEnd);
    e["reason"] = result.reason;
    e["step"] = result.step;
    e["total_steps"] = total_;
    e["wall_seconds"] = wall();
    if (env_.process_start > 0) e["process_seconds"] = journal::now_seconds() - env_.process_start;
    journal::append(journal_, e);
    spdlog::info("training {} at step {}/{} ({})", result.exit_code == kExitOk ? "complete" : "stopped", result.step,
                 total_, result.reason);
  }

  const TrainConfig& c_;
  Stage& stage_;
  const dist::Communicator& comm_;
  const TrainEnv& env_;
  const bool root_;
  const int world_;
  const std::string journal_;
  const std::string shards_dir_;
  data::ShardSet shards_;
  std::unique_ptr<data::ShardSet> eval_set_;
  std::shared_ptr<const std::vector<data::Item>> items_;
  ckpt::Store store_;
  std::int64_t total_ = 0, micro_ = 1;
  std::vector<std::string> entries_;
  std::set<std::int64_t> points_;

  std::int64_t start_step_ = 0, position_ = 0;
  double wall_before_ = 0;
  std::unique_ptr<StepRunner> steps_;
  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<SignalFlag> signals_;
  std::unique_ptr<MetricsLog> metrics_;
  StopEstimates est_;
  std::chrono::steady_clock::time_point t_start_, log_t0_;
  double last_ckpt_wall_ = 0;
  std::vector<double> log_sums_;
  std::int64_t log_count_ = 0;
  std::int64_t steps_this_run_ = 0;
};

}  // namespace

std::string progress_line(std::int64_t step, std::int64_t total, double images_per_s,
                          const std::vector<std::pair<std::string, double>>& terms,
                          const std::vector<std::pair<std::string, double>>& lrs, double eta_seconds) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "step %lld/%lld %5.1f%%  %.2f img/s ", static_cast<long long>(step),
                static_cast<long long>(total), total > 0 ? 100.0 * step / total : 100.0, images_per_s);
  std::string out = buf;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %s %.4f", i == 0 && terms[i].first == "loss" ? "loss" : terms[i].first.c_str(),
                  terms[i].second);
    out += buf;
  }
  out += " ";
  for (const auto& [phase, lr] : lrs) {
    std::snprintf(buf, sizeof buf, " lr%s%s %.3e", lrs.size() > 1 ? "/" : "", lrs.size() > 1 ? phase.c_str() : "", lr);
    out += buf;
  }
  out += "  ETA ";
  out += eta_seconds > 0 ? parse::format_walltime(static_cast<std::int64_t>(std::ceil(eta_seconds))) : "--:--:--";
  return out;
}

void configure_determinism(const ScheduleConfig& schedule) {
  at::globalContext().setDeterministicCuDNN(schedule.deterministic);
  at::globalContext().setBenchmarkCuDNN(false);
}

Trainer::Trainer(const TrainConfig& config, Stage& stage, const dist::Communicator& comm, TrainEnv env)
    : config_(config), stage_(stage), comm_(comm), env_(std::move(env)) {}

RunResult Trainer::run() {
  configure_determinism(config_.train);
  return Run(config_, stage_, comm_, env_).execute();
}

}  // namespace sdn::train

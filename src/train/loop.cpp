// Implements the training loop (see loop.hpp for its invariants).
#include "train/loop.hpp"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "ckpt/store.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/journal.hpp"
#include "core/parse.hpp"
#include "core/rng.hpp"
#include "data/loader.hpp"
#include "dist/abort.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_check.hpp"
#include "dist/reducer_factory.hpp"
#include "dist/watchdog.hpp"
#include "train/stage_data.hpp"
#include "train/stop.hpp"
#include "train/train_state.hpp"

namespace fsys = std::filesystem;

namespace sdn::train {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Gathers every rank's CPU generator state to rank 0 (collective). Rank 0 gets one tensor per rank.
std::vector<torch::Tensor> gather_rng_states(const dist::Communicator& comm) {
  auto mine = cpu_rng_state().contiguous();
  const int n = static_cast<int>(mine.numel());
  std::vector<std::uint8_t> all(comm.rank() == 0 ? static_cast<size_t>(n) * comm.size() : 0);
  SDN_MPI_CHECK(MPI_Gather(mine.data_ptr(), n, MPI_BYTE, all.data(), n, MPI_BYTE, 0, comm.comm()));
  std::vector<torch::Tensor> out;
  for (int r = 0; comm.rank() == 0 && r < comm.size(); ++r)
    out.push_back(torch::from_blob(all.data() + static_cast<size_t>(r) * n, {n}, torch::kByte).clone());
  return out;
}

ckpt::WriteHook kill_hook(const std::string& phase) {
  if (phase.empty()) return {};
  return [phase](ckpt::WritePhase p) {
    if (phase == ckpt::phase_name(p)) ::raise(SIGKILL);
  };
}

// Per-step metrics file RUN/logs/metrics.tsv ("step<TAB>loss<TAB>..."), rank 0 only. On resume, lines after
// the checkpoint's step are dropped: they belong to steps the interrupted run did not keep.
class MetricsLog {
 public:
  MetricsLog(const std::string& path, std::int64_t keep_until) : path_(path) {
    if (fsys::exists(path)) {
      std::ifstream in(path);
      std::string line, kept;
      while (std::getline(in, line)) {
        std::int64_t step = 0;
        auto tab = line.find('\t');
        if (tab != std::string::npos && parse::parse_value(line.substr(0, tab), step).empty() && step <= keep_until)
          kept += line + "\n";
      }
      fs::write_atomic(path, kept);
    }
    out_.open(path, std::ios::app);
    if (!out_) throw Error("cannot append to " + path, "check that the run directory is writable");
  }
  void add(std::int64_t step, const std::vector<std::pair<std::string, double>>& terms) {
    char buf[64];
    out_ << step;
    for (const auto& [name, value] : terms) {
      std::snprintf(buf, sizeof buf, "\t%s=%.9g", name.c_str(), value);
      out_ << buf;
    }
    out_ << "\n";
  }
  void flush() { out_.flush(); }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace

std::string progress_line(std::int64_t step, std::int64_t total, double images_per_s, double loss, double lr,
                          double eta_seconds) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "step %lld/%lld %5.1f%%  %.2f img/s  loss %.4f  lr %.3e  ETA %s",
                static_cast<long long>(step), static_cast<long long>(total), total > 0 ? 100.0 * step / total : 100.0,
                images_per_s, loss, lr,
                eta_seconds > 0 ? parse::format_walltime(static_cast<std::int64_t>(std::ceil(eta_seconds))).c_str()
                                : "--:--:--");
  return buf;
}

Trainer::Trainer(const TrainConfig& config, Stage& stage, const dist::Communicator& comm, TrainEnv env)
    : config_(config), stage_(stage), comm_(comm), env_(std::move(env)) {}

RunResult Trainer::run() {
  const bool root = comm_.rank() == 0;
  const int world = comm_.size();
  const std::string run = config_.run_dir;
  const std::string journal = journal::path_in(run);
  // [dist helper, issue 11 item 7] node-local staging: every rank reads the node's copy of the shards.
  const std::string shards_dir =
      env_.stage_to.empty() ? config_.data.shards : stage_data(config_, env_.stage_to, comm_, journal);
  data::ShardSet shards(shards_dir, config_.data.split);
  std::unique_ptr<data::ShardSet> eval_set;
  if (config_.train.eval_every > 0) eval_set = std::make_unique<data::ShardSet>(shards_dir, config_.data.eval_split);
  const std::int64_t total = config_.total_steps(shards.size());
  const std::int64_t micro = config_.train.global_batch / (world * config_.train.per_rank_batch);
  const auto relevant = relevant_entries(config_);

  // ---- resume: rank 0 picks the newest checkpoint that verifies; every rank reads that same file.
  ckpt::Store store(run + "/ckpt");
  std::int64_t start_step = 0, position = 0;
  double wall_before = 0;
  std::string resume_path;
  if (root) {
    store.remove_stale_temporaries();
    if (auto rp = store.newest_valid()) {
      for (const auto& s : rp->skipped) spdlog::warn("skipping damaged checkpoint {}", s);
      resume_path = rp->path;
    }
  }
  auto chosen = dist::allreduce_sum(comm_, {root && !resume_path.empty() ? 1.0 : 0.0});
  if (chosen[0] > 0) {
    // Every rank reads the file itself (shared file system); rank 0 broadcasts nothing but the decision.
    std::vector<char> name(4096, 0);
    if (root) std::snprintf(name.data(), name.size(), "%s", resume_path.c_str());
    SDN_MPI_CHECK(MPI_Bcast(name.data(), static_cast<int>(name.size()), MPI_CHAR, 0, comm_.comm()));
    resume_path = name.data();
    auto c = ckpt::read_checkpoint(resume_path, /*verify=*/!root);  // rank 0 verified it already
    if (c.meta.stage != stage_.name())
      throw UsageError(resume_path + " is a '" + c.meta.stage + "' checkpoint; this run trains '" + stage_.name() + "'",
                       "use another --run-dir for another stage");
    auto diff = ckpt::config_differences(c.meta.config, relevant);
    if (!diff.empty() && !config_.ckpt.force_resume) {
      std::string msg = "the training configuration differs from the one that wrote " + resume_path + ":";
      for (const auto& d : diff) msg += "\n  - " + d;
      throw UsageError(msg, "restore those values, or pass --ckpt.force_resume to continue with the new ones");
    }
    restore_state(stage_, c.tensors, resume_path);
    start_step = c.meta.step;
    position = c.meta.loader_position;
    wall_before = c.meta.wall_seconds;
    auto rng = c.tensors.find("rng/cpu/" + std::to_string(comm_.rank()));
    if (c.meta.world_size == world && rng != c.tensors.end()) {
      set_cpu_rng_state(rng->second);
    } else {
      // Elastic resume: the old per-rank generators do not map onto the new ranks; derive fresh ones.
      torch::manual_seed(hash_key({config_.train.seed, static_cast<std::uint64_t>(comm_.rank()), static_cast<std::uint64_t>(start_step)}));
    }
    if (root)
      spdlog::info("resumed from {} at step {}/{} (written by {} rank(s), now {}{})", resume_path, start_step, total,
                   c.meta.world_size, world, diff.empty() ? "" : "; config differences forced");
  } else {
    torch::manual_seed(hash_key({config_.train.seed, static_cast<std::uint64_t>(comm_.rank())}));
  }
  // Identical weights everywhere, also when a rank's init or file read could have differed.
  for (auto& [name, module] : stage_.modules()) dist::broadcast_from_root(comm_, dist::state_tensors(*module));

  if (start_step >= total) {
    if (root) spdlog::info("training already complete ({} steps)", total);
    return {kExitOk, "complete", start_step};
  }

  // ---- per-phase reducers, loader, stop machinery.
  std::vector<std::unique_ptr<dist::GradientReducer>> reducers;
  for (auto& phase : stage_.phases()) {
    std::vector<dist::NamedTensor> params;
    for (auto& [n, t] : phase.params) params.push_back({n, t});
    dist::ReducerOptions ro;
    ro.name = phase.name;
    reducers.push_back(dist::make_reducer(std::move(params), ro, comm_));
  }
  data::LoaderOptions lo;
  lo.rank = comm_.rank();
  lo.world = world;
  lo.micro_batches = static_cast<int>(micro);
  lo.global_batch = config_.train.global_batch;
  lo.seed = config_.train.seed;
  lo.aug = stage_.augment();
  lo.fields = stage_.fields();
  lo.threads = config_.data.threads;
  lo.prefetch = config_.data.prefetch;
  data::Loader loader(shards, lo, position);
  SignalFlag signals(config_.stop.signals);
  StopEstimates est;
  std::unique_ptr<MetricsLog> metrics;
  if (root) {
    fs::ensure_writable_dir(run + "/logs");
    metrics = std::make_unique<MetricsLog>(run + "/logs/metrics.tsv", start_step);
  }

  auto save = [&](std::int64_t step, double wall) {
    auto t0 = std::chrono::steady_clock::now();
    auto rng = gather_rng_states(comm_);  // collective
    if (root) {
      ckpt::Checkpoint c;
      c.tensors = collect_state(stage_);
      for (int r = 0; r < world; ++r) c.tensors["rng/cpu/" + std::to_string(r)] = rng[static_cast<size_t>(r)];
      c.meta.code_version = env_.code_version;
      c.meta.stage = stage_.name();
      c.meta.step = step;
      c.meta.epoch = loader.sampler().epoch_of_step(std::max<std::int64_t>(0, step - 1));
      c.meta.loader_position = loader.position();
      c.meta.world_size = world;
      c.meta.per_rank_batch = config_.train.per_rank_batch;
      c.meta.micro_batches = micro;
      c.meta.global_batch = config_.train.global_batch;
      c.meta.config = relevant;
      c.meta.config_digest = ckpt::config_digest(relevant);
      c.meta.wall_seconds = wall;
      metrics->flush();
      auto path = store.save(c, {config_.ckpt.keep_last, config_.ckpt.milestone_every}, kill_hook(config_.ckpt.kill_at_phase));
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      auto e = journal::make(journal::kind::kCheckpoint);
      e["step"] = step;
      e["seconds"] = secs;
      e["path"] = path;
      journal::append(journal, e);
      spdlog::info("checkpoint {} ({:.2f} s)", path, secs);
    }
    // Nobody leaves before the file is durable: exit 3 on any rank must mean a valid checkpoint exists.
    // A failed save on rank 0 throws there and never reaches this barrier; the others are then aborted by cli/.
    {
      dist::CollectiveScope watch("MPI_Barrier after the checkpoint save");  // [dist helper, issue 11 item 2]
      SDN_MPI_CHECK(MPI_Barrier(comm_.comm()));
    }
    est.checkpoint_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  // ---- the loop.
  const auto t_start = std::chrono::steady_clock::now();
  auto wall = [&] { return wall_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
  double last_ckpt_wall = wall();
  std::vector<double> log_sums;
  std::int64_t log_count = 0;
  auto log_t0 = std::chrono::steady_clock::now();
  std::int64_t steps_this_run = 0;
  RunResult result{kExitOk, "complete", start_step};

  for (std::int64_t step = start_step; step < total; ++step) {
    const auto step_t0 = std::chrono::steady_clock::now();
    data::RankBatch batch = loader.next();
    std::vector<std::pair<std::string, double>> terms;
    auto& phases = stage_.phases();
    for (size_t p = 0; p < phases.size(); ++p) {
      set_learning_rate(*phases[p].optimizer, stage_.lr(p, step, total));
      phases[p].optimizer->zero_grad();
      for (std::int64_t m = 0; m < micro; ++m) {
        // Only the last micro-batch reduces: the others accumulate locally (no_sync). Other phases' reducers
        // stay silent: a GAN's generator loss back-propagates through the discriminator's parameters, whose
        // gradients must not count as the discriminator's own (its phase zeroes them before its backward).
        for (size_t q = 0; q < reducers.size(); ++q) reducers[q]->set_sync(q == p && m == micro - 1);
        auto l = stage_.loss(p, batch.micro[static_cast<size_t>(m)]);
        (l.total / static_cast<double>(micro)).backward();
        for (const auto& [name, v] : l.terms) {
          auto it = std::find_if(terms.begin(), terms.end(), [&](auto& t) { return t.first == name; });
          if (it == terms.end()) terms.emplace_back(name, v / micro);
          else it->second += v / micro;
        }
      }
      reducers[p]->finish();
      phases[p].optimizer->step();
    }
    const std::int64_t done = step + 1;
    ++steps_this_run;
    const double step_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_t0).count();
    est.step_seconds = est.step_seconds == 0 ? step_secs : 0.9 * est.step_seconds + 0.1 * step_secs;

    // One tiny all-reduce per step: loss terms (averaged), stop vote, checkpoint vote (rank 0's clock decides).
    const bool stop_signal = signals.raised();
    const bool stop_deadline = deadline_reached(now_seconds(), env_.deadline, est, config_.stop.margin_seconds);
    const bool stop_limit = config_.stop.max_steps_this_run > 0 && steps_this_run >= config_.stop.max_steps_this_run;
    const bool ckpt_time = root && config_.ckpt.every_minutes > 0 && wall() - last_ckpt_wall >= 60 * config_.ckpt.every_minutes;
    std::vector<double> v;
    for (auto& t : terms) v.push_back(t.second);
    v.push_back(stop_signal), v.push_back(stop_deadline), v.push_back(stop_limit), v.push_back(ckpt_time);
    v = dist::allreduce_sum(comm_, v);
    const size_t nt = terms.size();
    for (size_t i = 0; i < nt; ++i) terms[i].second = v[i] / world;
    const bool by_signal = v[nt] > 0, by_deadline = v[nt + 1] > 0, by_limit = v[nt + 2] > 0;
    const bool periodic = v[nt + 3] > 0 || (config_.ckpt.every_steps > 0 && done % config_.ckpt.every_steps == 0);

    if (root) {
      metrics->add(done, terms);
      if (log_sums.size() != nt) log_sums.assign(nt, 0.0);
      for (size_t i = 0; i < nt; ++i) log_sums[i] += terms[i].second;
      ++log_count;
      if (done % config_.train.log_every == 0 || done == total) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - log_t0).count();
        const double ips = secs > 0 ? log_count * config_.train.global_batch / secs : 0;
        const double loss = nt > 0 ? log_sums[0] / log_count : 0;
        const double lr = stage_.lr(0, step, total);
        const double eta = ips > 0 ? (total - done) * config_.train.global_batch / ips : 0;
        spdlog::info("{}", progress_line(done, total, ips, loss, lr, eta));
        auto e = journal::make(journal::kind::kProgress);
        e["step"] = done;
        e["total_steps"] = total;
        e["images_per_s"] = ips;
        e["world_size"] = world;  // the planner divides by it to get per-GPU throughput
        e["loss"] = loss;
        e["lr"] = lr;
        e["job_id"] = env_.job_id;
        journal::append(journal, e);
        log_sums.assign(nt, 0.0);
        log_count = 0;
        log_t0 = std::chrono::steady_clock::now();
      }
    }
    if (eval_set && done % config_.train.eval_every == 0) {
      auto r = stage_.evaluate(*eval_set, config_.train.eval_samples, comm_);
      if (root) spdlog::info("eval at step {}:\n{}", done, r.table);
    }
    if (done == total) break;
    const bool stop = by_signal || by_deadline || by_limit;
    if (stop || periodic) {
      save(done, wall());
      last_ckpt_wall = wall();
    }
    if (stop) {
      result = {kExitResumable, by_signal ? "signal" : by_deadline ? "deadline" : "step_limit", done};
      break;
    }
  }
  if (result.exit_code == kExitOk) {
    save(total, wall());
    result.step = total;
  }
  if (root) {
    auto e = journal::make(journal::kind::kTrainEnd);
    e["reason"] = result.reason;
    e["step"] = result.step;
    e["total_steps"] = total;
    e["wall_seconds"] = wall();
    if (env_.process_start > 0) e["process_seconds"] = journal::now_seconds() - env_.process_start;
    journal::append(journal, e);
    spdlog::info("training {} at step {}/{} ({})", result.exit_code == kExitOk ? "complete" : "stopped", result.step, total,
                 result.reason);
  }
  return result;
}

}  // namespace sdn::train

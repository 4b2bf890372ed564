// Implements the wiring shared by train/eval/predict (see run_setup.hpp).
#include "cli/run_setup.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "ckpt/store.hpp"
#include "train/run_config.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "dist/abort.hpp"
#include "dist/device_select.hpp"
#include "dist/collectives.hpp"
#include "slurm/scheduler.hpp"
#include "train/stage_registry.hpp"
#include "train/train_state.hpp"

namespace sdn::cli {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

}  // namespace

opt::Parsed<train::TrainConfig> parse_train_config(const Args& args) {
  Args full = args;
  bool has_config = false;
  std::string run_dir;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" || args[i].rfind("--config=", 0) == 0) has_config = true;
    if (args[i] == "--run-dir" && i + 1 < args.size()) run_dir = args[i + 1];
    if (args[i].rfind("--run-dir=", 0) == 0) run_dir = args[i].substr(10);
  }
  const std::string ini = run_dir + "/run.ini";
  if (!has_config && !run_dir.empty() && std::filesystem::exists(ini)) full.insert(full.begin(), {"--config", ini});
  return train::parse_train_args(full);
}

void write_run_ini(const train::TrainConfig& c) {
  const std::string ini = c.run_dir + "/run.ini";
  if (std::filesystem::exists(ini)) return;
  fs::ensure_writable_dir(c.run_dir);
  fs::write_atomic(ini, "# Resolved configuration of this run (written by sdn train on its first start).\n" +
                            train::train_schema(c.stage).to_ini(c));
}

torch::Device pick_device(const train::TrainConfig& c, const dist::Communicator& comm) {
  const bool cuda = torch::cuda::is_available();
  if (c.train.device == "cpu" || (c.train.device == "auto" && !cuda)) return torch::kCPU;
  if (!cuda)
    throw UsageError("train.device = cuda, but this build or machine has no CUDA device",
                     "build with a CUDA LibTorch (README 'Expanse') and run on a GPU node, or use train.device = cpu");
  dist::GpuBindingFacts f;
  f.local_rank = comm.local_rank();
  f.local_size = comm.local_size();
  f.n_visible = static_cast<int>(torch::cuda::device_count());
  f.cuda_visible_devices = env("CUDA_VISIBLE_DEVICES");
  f.local_cuda_visible_devices = comm.local_allgather(f.cuda_visible_devices.value_or(""));
  f.slurm_gpus = env("SLURM_STEP_GPUS") ? env("SLURM_STEP_GPUS") : env("SLURM_JOB_GPUS");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist::select_device(f)));
}

double job_deadline(const train::TrainConfig& c, std::string& job_id) {
  job_id = env("SLURM_JOB_ID").value_or("");
  if (c.stop.deadline > 0) return c.stop.deadline;
  if (job_id.empty()) return 0;
  try {
    auto q = slurm::squeue_jobs({job_id});
    if (!q.empty())
      if (auto end = slurm::parse_slurm_time(q.front().end)) return static_cast<double>(*end);
  } catch (const std::exception& e) {
    spdlog::warn("cannot read the end time of job {} from squeue ({}); relying on the --signal warning", job_id, e.what());
  }
  return 0;
}

void init_run_logging(const train::TrainConfig& c, const std::string& name) {
  log::LogOptions lo;
  lo.level = c.log_level;
  if (process_identity().rank == 0 && !c.run_dir.empty()) {
    fs::ensure_writable_dir(c.run_dir + "/logs");
    lo.file = c.run_dir + "/logs/" + name + ".log";
  }
  log::init(lo);
}

opt::Schema<InferenceConfig> inference_schema(const std::string& command, const std::string& summary,
                                              const Args& args) {
  using C = InferenceConfig;
  opt::Schema<C> s(command, summary);
  const auto run_dir = opt::peek_value("run-dir", args);
  if (run_dir && std::filesystem::is_regular_file(*run_dir + "/run.ini")) {
    const std::string stage = train::stage_of_args({"--config", *run_dir + "/run.ini"});
    const auto names = train::stage_names();
    if (std::find(names.begin(), names.end(), stage) != names.end()) {
      const auto& spec = train::stage_spec(stage);
      for (const auto& o : train::train_schema(stage).options())
        if (o.key.rfind(stage + ".", 0) == 0 && train::is_neutral_key(o.key, spec.resume_neutral_keys))
          s.add(o.key, o.help + " (overrides the run's run.ini)",
                [key = o.key](C& c) -> auto& { return c.stage_keys[key]; });
    }
  }
  s.add("run-dir", "run directory (its run.ini and checkpoints)", [](C& c) -> auto& { return c.run_dir; })
      .add("ckpt", "checkpoint file (default: the run's newest valid one)", [](C& c) -> auto& { return c.ckpt; })
      .add("split", "shard split to use", [](C& c) -> auto& { return c.split; })
      .add("scales", "short sides whose softmax is averaged", [](C& c) -> auto& { return c.scales; })
      .add("samples", "how many samples (0: all)", [](C& c) -> auto& { return c.samples; }, opt::Range{0, 1e12})
      .add("indices", "sample indices (predict)", [](C& c) -> auto& { return c.indices; })
      .add("out", "output directory (predict; default RUN/predict)", [](C& c) -> auto& { return c.out; })
      .add("threads", "LibTorch threads per rank", [](C& c) -> auto& { return c.threads; }, opt::Range{1, 256})
      .add("log-level", "trace|debug|info|warn|error|off", [](C& c) -> auto& { return c.log_level; },
           opt::Choices{"trace", "debug", "info", "warn", "error", "off"});
  return s;
}

std::int64_t load_trained_stage(const InferenceConfig& ic, train::TrainConfig& cfg,
                                std::unique_ptr<train::Stage>& stage, const dist::Communicator& comm) {
  if (ic.run_dir.empty()) throw UsageError("run-dir: required", "point --run-dir at a run made by sdn train");
  std::vector<std::string> overrides;
  for (const auto& [key, value] : ic.stage_keys)
    if (!value.empty()) overrides.insert(overrides.end(), {"--" + key, value});
  auto parsed = train::parse_run_config(ic.run_dir, overrides);
  cfg = parsed.config;
  cfg.log_level = ic.log_level;
  torch::set_num_threads(ic.threads);
  stage = train::make_stage(cfg, stage_context(pick_device(cfg, comm), comm));
  std::string path = ic.ckpt;
  if (path.empty()) {
    auto rp = ckpt::Store(ic.run_dir + "/ckpt").newest_valid();
    if (!rp) throw Error("no checkpoint in " + ic.run_dir + "/ckpt", "train first (sdn train), or pass --ckpt FILE");
    path = rp->path;
  }
  auto c = ckpt::read_checkpoint(path);
  train::restore_state(*stage, c.tensors, path, /*optimiser=*/false);
  if (comm.rank() == 0) spdlog::info("loaded {} (step {})", path, c.meta.step);
  return c.meta.step;
}

train::StageContext stage_context(torch::Device device, const dist::Communicator& comm) {
  train::StageContext ctx;
  ctx.device = device;
  if (comm.size() > 1) ctx.cross_rank_sum = dist::make_cross_rank_sum(comm);
  ctx.rank = comm.rank();
  ctx.world = comm.size();
  return ctx;
}

train::InferenceOptions inference_options(const InferenceConfig& ic) {
  train::InferenceOptions o;
  o.scales = ic.scales;
  o.limit = ic.samples;
  o.indices.assign(ic.indices.begin(), ic.indices.end());
  o.out = ic.out.empty() ? ic.run_dir + "/predict" : ic.out;
  return o;
}

int run_collectively(const dist::Communicator& comm, const std::function<int()>& body,
                     const std::function<void(const std::string&)>& record_failure) {
  auto record = [&](const std::exception& e) {
    if (!record_failure) return;
    try {
      record_failure(e.what());
    } catch (const std::exception&) {
    }
  };
  try {
    return body();
  } catch (const UsageError& e) {
    record(e);
    if (comm.size() == 1) throw;
    dist::abort_job(e.what(), kExitUsage);
  } catch (const std::exception& e) {
    record(e);
    if (comm.size() == 1) throw;
    dist::abort_job(e.what(), kExitFailure);
  }
}

}  // namespace sdn::cli

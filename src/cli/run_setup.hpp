// Wiring shared by `sdn train`, `sdn eval` and `sdn predict`: reading the run's config (RUN/run.ini written
// on the first start and reused by every later chunk), the device, the Slurm job's end time, and turning a
// failure on one rank into the end of the whole job. The only place these commands read the environment.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "cli/commands.hpp"
#include "dist/mpi_session.hpp"
#include "train/config.hpp"
#include "train/stage.hpp"
#include "train/stage_registry.hpp"

namespace sdn::cli {

// Parses `args` against the train schema. When the run directory already holds run.ini and no --config is
// given, run.ini is the config file (the command line still overrides it).
opt::Parsed<train::TrainConfig> parse_train_config(const Args& args);

// Writes RUN/run.ini (rank 0, first start only: it is the immutable record of what the run trains with).
void write_run_ini(const train::TrainConfig& config);

// cpu, or the CUDA device of this rank (config "auto" picks CUDA when this build and machine have it).
torch::Device pick_device(const train::TrainConfig& config, const dist::Communicator& comm);

// The job's end as UNIX time: --stop.deadline, else Slurm's end time of SLURM_JOB_ID (squeue), else 0.
double job_deadline(const train::TrainConfig& config, std::string& job_id_out);

// Logs to stderr and RUN/logs/<name>.log (rank 0) with rank/host in every line.
void init_run_logging(const train::TrainConfig& config, const std::string& name);

// Options shared by `sdn eval` and `sdn predict`.
struct InferenceConfig {
  std::string run_dir;
  std::string ckpt;                 // a checkpoint file; empty: the run's newest valid one
  std::string split = "test";
  std::vector<int> scales = {100, 150, 200, 300, 375};  // multi-scale stages (semantic: the original's test)
  std::int64_t samples = 0;         // eval: first N samples (0: all); predict: how many frames
  std::vector<int> indices;         // predict: these sample indices instead
  std::string out;                  // predict: output dir (default RUN/predict)
  int threads = 1;
  std::string log_level = "info";
  std::map<std::string, std::string> stage_keys;  // the run's stage's own keys given here (non-empty: override)
};
// With `args` naming the --run-dir of a run, the options include its stage's own resume-neutral keys
// (StageSpec::resume_neutral_keys with the stage's prefix, e.g. derender.detections): they steer inference only,
// so eval/predict may override the run's run.ini with them (an empty value keeps run.ini's).
opt::Schema<InferenceConfig> inference_schema(const std::string& command, const std::string& summary,
                                              const Args& args = {});

// The run's training config (RUN/run.ini) with its stage (through the registry) whose weights come from the
// chosen checkpoint. Returns the checkpoint's step.
std::int64_t load_trained_stage(const InferenceConfig& ic, train::TrainConfig& config_out,
                                std::unique_ptr<train::Stage>& stage_out, const dist::Communicator& comm);

// What a stage built on this rank needs: its device, the cross-rank sum (SyncBN), its rank.
train::StageContext stage_context(torch::Device device, const dist::Communicator& comm);

// The stage-independent view of the inference options.
train::InferenceOptions inference_options(const InferenceConfig& ic);

// Runs `body`; an exception on any rank of a multi-rank job ends every rank (MPI_Abort) with its message,
// instead of leaving the others waiting in a collective. Single-process failures propagate normally.
// `record_failure` (optional) gets the message first, e.g. to journal it for the job script; its own failure is
// ignored (the run directory may be what failed).
int run_collectively(const dist::Communicator& comm, const std::function<int()>& body,
                     const std::function<void(const std::string&)>& record_failure = {});

}  // namespace sdn::cli

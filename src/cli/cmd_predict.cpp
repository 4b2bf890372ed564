// `sdn predict`: the run's stage writes its predictions for chosen frames (semantic: label PNGs and
// image | prediction | truth strips, as the original vkitti_test.py) under RUN/predict/ or --out, split across ranks.
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_setup.hpp"
#include "core/exit_codes.hpp"
#include "core/log.hpp"
#include "data/shard_set.hpp"

namespace sdn::cli {

int run_predict(const Args& args) {
  auto parsed = parse_command(
      inference_schema("predict", "Write the stage's predictions (semantic: label PNGs and image|prediction|truth strips).",
                       args),
      args);
  if (!parsed) return kExitOk;
  const auto& ic = *parsed;
  dist::MpiSession mpi;
  dist::Communicator comm;
  return run_collectively(comm, [&] {
    log::init(ic.log_level);
    train::TrainConfig cfg;
    std::unique_ptr<train::Stage> stage;
    load_trained_stage(ic, cfg, stage, comm);
    data::ShardSet set(cfg.data.shards, ic.split);
    const std::string summary = stage->predict(set, inference_options(ic), comm);
    if (comm.rank() == 0) spdlog::info("{}", summary);
    return kExitOk;
  });
}

}  // namespace sdn::cli

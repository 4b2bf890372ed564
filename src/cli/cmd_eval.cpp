// `sdn eval`: the run's stage evaluates its checkpoint on a shard split (semantic: pixel accuracy, per-class IoU
// and mIoU as the original vkitti_eval.py), split across ranks; the table goes to stdout and, with CSV and JSON
// twins, to RUN/eval/.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_setup.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "data/shard_set.hpp"

namespace sdn::cli {

int run_eval(const Args& args) {
  auto parsed =
      parse_command(inference_schema("eval", "Evaluate a run's checkpoint with its stage's metrics (semantic: pixel "
                                             "accuracy, per-class IoU, mIoU).", args), args);
  if (!parsed) return kExitOk;
  const auto& ic = *parsed;
  dist::MpiSession mpi;
  dist::Communicator comm;
  return run_collectively(comm, [&] {
    log::init(ic.log_level);
    train::TrainConfig cfg;
    std::unique_ptr<train::Stage> stage;
    const auto step = load_trained_stage(ic, cfg, stage, comm);
    data::ShardSet set(cfg.data.shards, ic.split);
    auto r = stage->evaluate(set, inference_options(ic), comm);
    if (comm.rank() == 0) {
      std::printf("%s", r.table.c_str());
      const std::string base = ic.run_dir + "/eval/" + ic.split + "-step-" + std::to_string(step);
      fs::ensure_writable_dir(ic.run_dir + "/eval");
      fs::write_atomic(base + ".txt", r.table);
      fs::write_atomic(base + ".csv", r.csv);
      nlohmann::json j;
      j["step"] = step;
      j["split"] = ic.split;
      j["scales"] = ic.scales;
      for (const auto& [k, v] : r.metrics) j[k] = v;
      fs::write_atomic(base + ".json", j.dump(2) + "\n");
      spdlog::info("wrote {}.{{txt,csv,json}}", base);
    }
    return kExitOk;
  });
}

}  // namespace sdn::cli

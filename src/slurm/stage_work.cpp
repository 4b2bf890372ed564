// Implements reading the planning keys of a stage config (see stage_work.hpp). The key names are the trainer's
// (src/train/config.cpp): run.ini is this file verbatim, and the trainer rejects keys it does not know.
#include "slurm/stage_work.hpp"

namespace sdn::slurm {

StageWork read_stage_work(IniDoc doc, const StageWork& given) {
  StageWork w;
  w.stage = doc.origin();
  auto slash = w.stage.rfind('/');
  if (slash != std::string::npos) w.stage = w.stage.substr(slash + 1);
  if (auto dot = w.stage.rfind('.'); dot != std::string::npos && dot > 0) w.stage = w.stage.substr(0, dot);
  if (!given.stage.empty()) w.stage = given.stage;

  if (given.total_steps > 0) {
    w.total_steps = given.total_steps;
  } else {
    std::int64_t epochs = 100, iters = 0;  // the trainer's default epochs (src/train/config.hpp)
    doc.read("train.epochs", epochs);
    doc.read("train.iterations_per_epoch", iters);
    if (iters > 0)
      w.total_steps = epochs * iters;
    else if (doc.problems().empty())
      doc.add_problem(doc.where("train.iterations_per_epoch") +
                      ": train.iterations_per_epoch is " + (doc.has("train.iterations_per_epoch") ? "0" : "not set") +
                      " (one pass over the shards): the planner cannot see the dataset, so give the total with --steps "
                      "or set train.iterations_per_epoch");
  }
  if (given.global_batch > 0)
    w.global_batch = given.global_batch;
  else if (doc.require("train.global_batch", "samples per optimiser step over all ranks"))
    doc.read("train.global_batch", w.global_batch);
  if (given.per_gpu_batch > 0)
    w.per_gpu_batch = given.per_gpu_batch;
  else if (doc.require("train.per_rank_batch", "samples per rank (= per GPU) per micro-batch"))
    doc.read("train.per_rank_batch", w.per_gpu_batch);
  doc.read("optim.lr", w.lr);
  doc.read("optim.warmup_steps", w.warmup_steps);
  if (doc.problems().empty()) {
    if (w.total_steps <= 0) doc.add_problem(doc.where("train.epochs") + ": the total number of steps must be positive");
    if (w.global_batch <= 0) doc.add_problem(doc.where("train.global_batch") + ": train.global_batch must be positive");
    if (w.per_gpu_batch <= 0)
      doc.add_problem(doc.where("train.per_rank_batch") + ": train.per_rank_batch must be positive");
    else if (w.global_batch % w.per_gpu_batch != 0)
      doc.add_problem(doc.where("train.global_batch") + ": train.global_batch (" + std::to_string(w.global_batch) +
                      ") is not a multiple of train.per_rank_batch (" + std::to_string(w.per_gpu_batch) + ")");
  }
  doc.throw_if_problems("stage config", "sdn plan reads only [train] epochs, iterations_per_epoch, global_batch and "
                                        "per_rank_batch; override them with --steps, --global-batch, --batch-per-rank");
  return w;
}

std::string run_ini_text(const std::string& text, const std::string& origin, const StageWork& given,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> v;
  if (given.total_steps > 0) {
    std::int64_t epochs = 100;  // the trainer's default (src/train/config.hpp)
    IniDoc::parse(text, origin).read("train.epochs", epochs);
    if (epochs < 1 || given.total_steps % epochs != 0) epochs = 1;
    v.emplace_back("train.epochs", std::to_string(epochs));
    v.emplace_back("train.iterations_per_epoch", std::to_string(given.total_steps / epochs));
  }
  if (given.global_batch > 0) v.emplace_back("train.global_batch", std::to_string(given.global_batch));
  if (given.per_gpu_batch > 0) v.emplace_back("train.per_rank_batch", std::to_string(given.per_gpu_batch));
  v.insert(v.end(), extra.begin(), extra.end());
  return v.empty() ? text : set_ini_values(text, v);
}

}  // namespace sdn::slurm

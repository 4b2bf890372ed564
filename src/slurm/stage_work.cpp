// Implements reading the planning keys of a stage config (see stage_work.hpp).
#include "slurm/stage_work.hpp"

namespace sdn::slurm {

StageWork read_stage_work(IniDoc doc, const StageWork& given) {
  StageWork w;
  w.stage = doc.origin();
  auto slash = w.stage.rfind('/');
  if (slash != std::string::npos) w.stage = w.stage.substr(slash + 1);
  if (auto dot = w.stage.rfind('.'); dot != std::string::npos && dot > 0) w.stage = w.stage.substr(0, dot);
  doc.read("stage.name", w.stage);
  if (!given.stage.empty()) w.stage = given.stage;

  if (given.total_steps > 0) {
    w.total_steps = given.total_steps;
  } else if (doc.has("train.steps")) {
    doc.read("train.steps", w.total_steps);
  } else if (doc.has("train.epochs") || doc.has("train.iterations_per_epoch")) {
    std::int64_t epochs = 0, iters = 0;
    if (doc.require("train.epochs", "epochs, multiplied by train.iterations_per_epoch") &&
        doc.require("train.iterations_per_epoch", "optimiser steps per epoch")) {
      if (doc.read("train.epochs", epochs) && doc.read("train.iterations_per_epoch", iters)) w.total_steps = epochs * iters;
    }
  } else {
    doc.add_problem(doc.origin() + ": missing key 'train.steps' (or 'train.epochs' and 'train.iterations_per_epoch'):"
                    " the total number of optimiser steps");
  }
  if (given.global_batch > 0)
    w.global_batch = given.global_batch;
  else if (doc.require("train.global_batch", "images per optimiser step over all ranks"))
    doc.read("train.global_batch", w.global_batch);
  if (given.per_gpu_batch > 0)
    w.per_gpu_batch = given.per_gpu_batch;
  else if (doc.require("train.batch_per_rank", "images per rank per forward/backward"))
    doc.read("train.batch_per_rank", w.per_gpu_batch);
  if (doc.problems().empty()) {
    if (w.total_steps <= 0) doc.add_problem(doc.where("train.steps") + ": the total number of steps must be positive");
    if (w.global_batch <= 0) doc.add_problem(doc.where("train.global_batch") + ": train.global_batch must be positive");
    if (w.per_gpu_batch <= 0)
      doc.add_problem(doc.where("train.batch_per_rank") + ": train.batch_per_rank must be positive");
    else if (w.global_batch % w.per_gpu_batch != 0)
      doc.add_problem(doc.where("train.global_batch") + ": train.global_batch (" + std::to_string(w.global_batch) +
                      ") is not a multiple of train.batch_per_rank (" + std::to_string(w.per_gpu_batch) + ")");
  }
  doc.throw_if_problems("stage config", "sdn plan reads only [train] steps (or epochs x iterations_per_epoch), "
                                        "global_batch and batch_per_rank; override them with --steps, --global-batch, "
                                        "--batch-per-rank");
  return w;
}

}  // namespace sdn::slurm

// The command table (see commands.hpp). Add a command here and in commands.hpp.
#include "cli/commands.hpp"

namespace sdn::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"synth", "write a synthetic dataset in the vKITTI 1.3.1 or 2.0.3 layout", run_synth},
      {"pack", "pack a vKITTI tree (either layout) into HDF5 shards", run_pack},
      {"train", "train a branch (launch with srun/mpirun for several ranks); exit 3 = resumable stop", run_train},
      {"eval", "evaluate a run's checkpoint (pixel accuracy, IoU per class, mIoU)", run_eval},
      {"predict", "label PNGs and image|prediction|truth strips for chosen frames", run_predict},
      {"edit", "edit a frame's objects in 3D and redraw it with a textural run; --benchmark: edit metrics", run_edit},
      {"ckpt", "inspect or verify checkpoint files", run_ckpt},
      {"bench", "benchmarks: loader, reduce, step, ckpt", run_bench},
      {"plan", "plan a stage on a Slurm cluster: job shapes, chunks, SUs, finish; write the run dir", run_plan},
      {"submit", "submit a planned run (self-requeueing job or dependency chain)", run_submit},
      {"status", "show a run: progress, jobs, chunks, images/s, ETA, loss; --plot, --follow", run_status},
      {"cancel", "cancel a run's jobs (the trainer checkpoints; submit resumes)", run_cancel},
      {"pipeline", "the whole 3D-SDN as one job graph: plan | submit | status | cancel | estimate", run_pipeline},
      {"journal", "append to a run's journal (used by the job scripts)", run_journal},
      {"cluster", "embedded local Slurm cluster: up | down | status; modulefiles", run_cluster},
      {"weights", "export/import semantic model weights (HDF5, PyTorch state_dict names)", run_weights},
  };
  return table;
}

}  // namespace sdn::cli

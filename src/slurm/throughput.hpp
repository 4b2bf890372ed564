// Measured throughput for planning, from what the suite already writes: a run's journal (the trainer's
// progress and checkpoint events) or a `sdn bench step` result (JSON). Pure parsers over text.
#pragma once

#include <string>

namespace sdn::slurm {

struct Measured {
  double images_per_s_per_gpu = 0;
  double ckpt_seconds = 0;  // 0: not measured
  double stage_seconds = 0;  // slowest "stage_data" event (node-local staging per job); 0: none
  std::string source;       // "12 progress events of runs/x/journal.jsonl (2 ranks)"
};

// Journal text: the median images_per_s over the newer half of the progress events (the first ones include
// warm-up), divided by their "world_size" (1 if absent); the slowest "checkpoint" and "stage_data" events' "seconds".
// Bench JSON: an object with "images_per_s" and optional "world_size" and "ckpt_seconds".
// Throws UsageError naming `origin` when nothing usable is found.
Measured parse_measured(const std::string& text, const std::string& origin);

}  // namespace sdn::slurm

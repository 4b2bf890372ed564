// The cores one rank gets against the threads it starts (LibTorch intra-op + loader workers), so `sdn plan` and the
// job itself (`sdn journal chunk-start --cpus-per-rank $SLURM_CPUS_PER_TASK`) warn about oversubscription. Pure;
// reads the two trainer keys from a stage config without linking train/.
#pragma once

#include <string>

#include "slurm/ini_doc.hpp"

namespace sdn::slurm {

struct RankThreads {
  int train_threads = 1;  // [train] threads (the trainer's default, src/train/config.hpp)
  int data_threads = 2;   // [data] threads
  int total() const { return train_threads + data_threads; }
};

// Reads [train] threads and [data] threads (absent: the trainer's defaults). Malformed values are left to the trainer.
RankThreads read_rank_threads(IniDoc doc);

// "" when the threads fit in `cpus_per_rank` cores; otherwise one sentence naming the keys and what to change.
std::string oversubscription_warning(const RankThreads& threads, int cpus_per_rank);

}  // namespace sdn::slurm

// Implements the thread-versus-core check (see rank_cpus.hpp).
#include "slurm/rank_cpus.hpp"

namespace sdn::slurm {

RankThreads read_rank_threads(IniDoc doc) {
  RankThreads t;
  doc.read("train.threads", t.train_threads);
  doc.read("data.threads", t.data_threads);
  return t;
}

std::string oversubscription_warning(const RankThreads& t, int cpus) {
  if (cpus < 1 || t.total() <= cpus) return {};
  return "each rank starts " + std::to_string(t.total()) + " threads (train.threads = " + std::to_string(t.train_threads) +
         ", data.threads = " + std::to_string(t.data_threads) + ") on " + std::to_string(cpus) + " core" +
         (cpus == 1 ? "" : "s") + ": they share cores and slow each other down; lower them so that train.threads + "
         "data.threads <= " + std::to_string(cpus) + ", or use a partition with more cores per GPU";
}

}  // namespace sdn::slurm

// Node-local staging at trainer start-up (data.stage_to, issue 11): local rank 0 of every node copies the
// run's shards to the node-local directory and checks them against the index (data/stage_copy.hpp) while
// the node's other ranks wait (dist/node_once.hpp); then every rank reads the staged copy. Rank 0 journals
// one "stage_data" event (the slowest node's seconds, the bytes, what the copies were verified by), which the
// planner counts per chunk.
#pragma once

#include <functional>
#include <string>

#include "train/config.hpp"

namespace sdn::dist {
class Communicator;
}

namespace sdn::train {

// Expands $NAME and ${NAME} in `text` with `lookup` (cli/ passes getenv). Throws UsageError naming the
// variable when lookup returns null (e.g. $SLURM_JOB_ID outside a job). Pure apart from `lookup`.
std::string expand_variables(const std::string& text, const std::function<const char*(const std::string&)>& lookup);

// Collective. Stages the shards of data.split (and data.eval_split when train.eval_every > 0) from
// data.shards to `stage_to` and returns the directory to read them from (stage_to). Writes the journal
// event on rank 0 and logs any warning (an index without CRCs, a staged copy replaced). Throws on every rank if staging failed.
std::string stage_data(const TrainConfig& config, const std::string& stage_to, const dist::Communicator& comm,
                       const std::string& journal_path);

}  // namespace sdn::train

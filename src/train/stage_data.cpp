// Implements node-local staging at start-up (see stage_data.hpp).
#include "train/stage_data.hpp"

#include <mpi.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/journal.hpp"
#include "data/stage_copy.hpp"
#include "dist/collectives.hpp"
#include "dist/mpi_check.hpp"
#include "dist/node_once.hpp"

namespace sdn::train {

std::string expand_variables(const std::string& text, const std::function<const char*(const std::string&)>& lookup) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    std::string name;
    size_t end = i + 1;
    if (end < text.size() && text[end] == '{') {
      const size_t close = text.find('}', end);
      if (close == std::string::npos)
        throw UsageError("'" + text + "': unterminated ${ in data.stage_to", "write ${NAME} or $NAME");
      name = text.substr(end + 1, close - end - 1);
      end = close + 1;
    } else {
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) name += text[end++];
    }
    if (name.empty()) throw UsageError("'" + text + "': a '$' without a variable name", "write ${NAME} or $NAME");
    const char* value = lookup(name);
    if (!value)
      throw UsageError("data.stage_to = " + text + " uses $" + name + ", which is not set",
                       "run inside the Slurm job that sets it, or give a literal directory");
    out += value;
    i = end - 1;
  }
  return out;
}

std::string stage_data(const TrainConfig& c, const std::string& stage_to, const dist::Communicator& comm,
                       const std::string& journal_path) {
  data::StageOptions o;
  o.from = c.data.shards;
  o.to = stage_to;
  o.splits = {c.data.split};
  if (c.train.eval_every > 0 && c.data.eval_split != c.data.split) o.splits.push_back(c.data.eval_split);
  const std::string payload = dist::once_per_node(comm, [&] {
    const auto r = data::stage_shards(o);
    nlohmann::json j = {{"seconds", r.seconds},           {"bytes", r.bytes},
                        {"bytes_copied", r.bytes_copied}, {"files_copied", r.files_copied},
                        {"files_kept", r.files_kept},     {"files_replaced", r.files_replaced},
                        {"verified", r.crc_checked ? "size+crc32" : "size"}, {"warnings", r.warnings}};
    return j.dump();
  });
  const auto node = nlohmann::json::parse(payload);
  // Over the nodes: the slowest copy delays the job; bytes and files are counted once per node.
  double slowest = node.value("seconds", 0.0);
  SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm.comm()));
  const bool counts = comm.local_rank() == 0;
  const auto sums = dist::allreduce_sum(
      comm, {counts ? 1.0 : 0.0, counts ? node.value("bytes_copied", 0.0) : 0.0, counts ? node.value("files_copied", 0.0) : 0.0});
  if (comm.rank() == 0) {
    for (const auto& w : node.value("warnings", std::vector<std::string>{})) spdlog::warn("{}", w);
    auto e = journal::make(journal::kind::kStageData);
    e["seconds"] = slowest;
    e["bytes"] = node.value("bytes", std::int64_t{0});  // the staged set, per node
    e["bytes_copied"] = static_cast<std::int64_t>(sums[1]);  // over all nodes
    e["files_copied"] = static_cast<std::int64_t>(sums[2]);
    e["files_kept"] = node.value("files_kept", std::int64_t{0});       // rank 0's node
    e["files_replaced"] = node.value("files_replaced", std::int64_t{0});  // rank 0's node: staged copies that did not match
    e["verified"] = node.value("verified", std::string("size"));      // what every copy was checked against the index by
    e["warnings"] = node.value("warnings", std::vector<std::string>{});  // rank 0's node: an old index, a replaced copy
    e["nodes"] = static_cast<std::int64_t>(sums[0]);
    e["from"] = o.from;
    e["to"] = stage_to;
    journal::append(journal_path, e);
    spdlog::info("staged the shards to {} on {} node(s): {:.1f} MB in {:.1f} s ({} file(s) copied, {} kept, {} replaced; "
                 "checked by {})", stage_to, static_cast<int>(sums[0]), node.value("bytes", 0.0) / 1e6, slowest,
                 static_cast<int>(sums[2]), node.value("files_kept", 0), node.value("files_replaced", 0),
                 e["verified"].get<std::string>());
  }
  return stage_to;
}

}  // namespace sdn::train

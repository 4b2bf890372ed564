// `sdn pack`: options -> data::pack (see data/pack.hpp).
#include <spdlog/spdlog.h>

#include <thread>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/exit_codes.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "data/pack.hpp"

namespace sdn::cli {
namespace {

struct PackConfig {
  data::PackOptions pack;
  std::string log_level = "info";
};

opt::Schema<PackConfig> pack_schema() {
  opt::Schema<PackConfig> s("pack", "Pack a vKITTI 1.3.1 or 2.0.3 tree (layout auto-detected) into HDF5 shards "
                                    "<out>/<split>-NNNNN-of-NNNNN.h5 plus <out>/<split>-index.json.");
  s.add("src", "root of the vKITTI tree (or of `sdn synth` output)", [](PackConfig& c) -> auto& { return c.pack.src; })
      .add("out", "output directory for the shards", [](PackConfig& c) -> auto& { return c.pack.out; })
      .add("split", "3D-SDN split to pack", [](PackConfig& c) -> auto& { return c.pack.split; },
           opt::Choices{"train", "test", "all"})
      .add("shards", "number of shards (0: about 2 GiB each)", [](PackConfig& c) -> auto& { return c.pack.shards; },
           opt::Range{0, 100000})
      .add("camera", "camera (1 = right, vKITTI 2 only)", [](PackConfig& c) -> auto& { return c.pack.camera; },
           opt::Range{0, 1})
      .add("threads", "decoding threads", [](PackConfig& c) -> auto& { return c.pack.threads; }, opt::Range{1, 256})
      .add("progress", "show a progress bar", [](PackConfig& c) -> auto& { return c.pack.progress; })
      .add("log-level", "trace|debug|info|warn|error|off", [](PackConfig& c) -> auto& { return c.log_level; },
           opt::Choices{"trace", "debug", "info", "warn", "error", "off"});
  return s;
}

std::vector<std::string> validate(const PackConfig& c) {
  std::vector<std::string> e;
  if (c.pack.src.empty()) e.push_back("src: required (the vKITTI root to read)");
  if (c.pack.out.empty()) e.push_back("out: required (the directory to write shards to)");
  return e;
}

}  // namespace

int run_pack(const Args& args) {
  auto parsed = parse_command(pack_schema(), args, validate);
  if (!parsed) return kExitOk;
  log::init(parsed->log_level);
  auto r = data::pack(parsed->pack);
  spdlog::info("packed {} frames into {} shard(s); index {}", r.frames, r.shards, r.index_path);
  return kExitOk;
}

}  // namespace sdn::cli

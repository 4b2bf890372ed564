// `sdn synth`: options -> data::write_synthetic (see data/synth.hpp). The layout arrives as a name and the
// world/variation lists accept "all"; everything else is checked by data::validate so the rules live in one place.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/exit_codes.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "data/synth.hpp"

namespace sdn::cli {
namespace {

struct SynthConfig {
  std::string layout = "vkitti1";
  std::string out;
  std::vector<std::string> worlds = {"0001"};
  std::vector<std::string> variations = {"clone"};
  int frames = 8;
  int first_frame = 0;
  int width = 1242, height = 375;
  std::uint64_t seed = 0;
  int threads = 1;
  bool progress = false;
  double vehicle_scale = 1.0;
  double vehicle_presence = -1.0;
  std::string log_level = "info";
};

opt::Schema<SynthConfig> synth_schema() {
  opt::Schema<SynthConfig> s("synth", "Write a synthetic, geometrically consistent Virtual KITTI tree in the exact "
                                      "file layout and encodings of vKITTI 1.3.1 or 2.0.3 (both cameras).");
  s.add("layout", "on-disk layout", [](SynthConfig& c) -> auto& { return c.layout; },
        opt::Choices{"vkitti1", "vkitti2"})
      .add("out", "root folder of the tree to write", [](SynthConfig& c) -> auto& { return c.out; })
      .add("worlds", "comma list of worlds (0001,0002,0006,0018,0020) or 'all'",
           [](SynthConfig& c) -> auto& { return c.worlds; })
      .add("variations", "comma list of variations (clone,fog,...) or 'all'",
           [](SynthConfig& c) -> auto& { return c.variations; })
      .add("frames", "frames per sequence", [](SynthConfig& c) -> auto& { return c.frames; }, opt::Range{1, 837})
      .add("first-frame", "index of the first frame (train/test follow the 3D-SDN ranges)",
           [](SynthConfig& c) -> auto& { return c.first_frame; }, opt::Range{0, 836})
      .add("width", "image width in pixels", [](SynthConfig& c) -> auto& { return c.width; }, opt::Range{16, 8192})
      .add("height", "image height in pixels", [](SynthConfig& c) -> auto& { return c.height; }, opt::Range{16, 8192})
      .add("seed", "scene seed (same seed, same dataset)", [](SynthConfig& c) -> auto& { return c.seed; })
      .add("threads", "frames rendered and encoded in parallel", [](SynthConfig& c) -> auto& { return c.threads; },
           opt::Range{1, 256})
      .add("progress", "show a progress bar", [](SynthConfig& c) -> auto& { return c.progress; })
      .add("vehicle-scale", "size factor of every car and van (1 = real sizes; a tiny-frame detector demo uses more)",
           [](SynthConfig& c) -> auto& { return c.vehicle_scale; }, opt::Range{1, 2})
      .add("vehicle-presence", "probability that a traffic slot holds a vehicle (-1: the standard 0.85 / 0.7)",
           [](SynthConfig& c) -> auto& { return c.vehicle_presence; }, opt::Range{-1, 1})
      .add("log-level", "trace|debug|info|warn|error|off", [](SynthConfig& c) -> auto& { return c.log_level; },
           opt::Choices{"trace", "debug", "info", "warn", "error", "off"});
  return s;
}

std::vector<std::string> expand_all(const std::vector<std::string>& given, const std::vector<std::string>& all) {
  return given.size() == 1 && given[0] == "all" ? all : given;
}

data::SynthOptions to_options(const SynthConfig& c) {
  data::SynthOptions o;
  o.layout = c.layout == "vkitti2" ? data::Layout::kVkitti2 : data::Layout::kVkitti1;
  o.out = c.out;
  o.worlds = expand_all(c.worlds, data::worlds());
  o.variations = expand_all(c.variations, data::variations());
  o.frames = c.frames;
  o.first_frame = c.first_frame;
  o.width = c.width;
  o.height = c.height;
  o.seed = c.seed;
  o.threads = c.threads;
  o.progress = c.progress;
  o.traffic.vehicle_scale = c.vehicle_scale;
  o.traffic.presence = c.vehicle_presence;
  return o;
}

std::vector<std::string> validate(const SynthConfig& c) { return data::validate(to_options(c)); }

}  // namespace

int run_synth(const Args& args) {
  auto parsed = parse_command(synth_schema(), args, validate);
  if (!parsed) return kExitOk;
  log::init(parsed->log_level);
  const data::SynthOptions o = to_options(*parsed);
  const auto start = std::chrono::steady_clock::now();
  data::write_synthetic(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int cameras = o.layout == data::Layout::kVkitti2 ? 2 : 1;
  spdlog::info("wrote {} {} frames ({} world(s) x {} variation(s) x {} frames x {} camera(s), {}x{}) to {} in {:.1f} s",
               o.worlds.size() * o.variations.size() * o.frames * cameras, data::layout_name(o.layout),
               o.worlds.size(), o.variations.size(), o.frames, cameras, o.width, o.height, o.out, seconds);
  return kExitOk;
}

}  // namespace sdn::cli

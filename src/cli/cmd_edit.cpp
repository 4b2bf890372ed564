// `sdn edit`: 3D-aware editing of a frame (train/frame_edit.hpp). Wires a derender run's predictions, the
// derender run's meshes, a trained textural run and the shards into the editor; edits come from --edit
// (one frame), --edits FILE or --benchmark FILE (3D-SDN's edit-benchmark JSON; the benchmark adds metrics
// against the target frames). One process; no logic here.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_setup.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/parse.hpp"
#include "train/frame_edit.hpp"

namespace sdn::cli {
namespace {

struct EditConfig {
  std::string geometric, textural_run, derender_run, ckpt, semantic, shards, out;
  std::string frame, edit, edits, benchmark;
  int threads = 1;
  std::string log_level = "info";
};

opt::Schema<EditConfig> edit_schema() {
  using C = EditConfig;
  opt::Schema<C> s("edit", "Edit objects of a frame in 3D (move, rotate, mesh, scale, delete) and redraw it with a "
                           "textural run.");
  s.add("geometric", "a derender run's `sdn predict --out` directory (per frame NNNNN.json, .png, -normal.png)",
        [](C& c) -> auto& { return c.geometric; })
      .add("textural-run", "a textural run (run.ini, newest valid checkpoint)",
           [](C& c) -> auto& { return c.textural_run; })
      .add("ckpt", "textural checkpoint file (default: the run's newest valid one)",
           [](C& c) -> auto& { return c.ckpt; })
      .add("derender-run", "the derender run that made --geometric (its meshes; default: the directory above it)",
           [](C& c) -> auto& { return c.derender_run; })
      .add("semantic", "predicted label PNGs (textural.inputs = predicted; default: the run's textural.semantic_dir)",
           [](C& c) -> auto& { return c.semantic; })
      .add("data.shards", "shard directory (default: the textural run's data.shards)",
           [](C& c) -> auto& { return c.shards; })
      .add("frame", "WORLD/VARIATION/FRAME to edit, e.g. 0001/clone/00356, or auto: the predicted frame with the "
                    "most visible derendered object (with --edit)",
           [](C& c) -> auto& { return c.frame; })
      .add("edit", "edits \"OBJ:OP=VALUE[:OP=VALUE];...\" (OBJ: instance value or largest): move=dx,dy,dz (m, "
                   "x right, y down, z forward) shift=du,dv to=u,v (px) zoom=z rotate=dry (rad or NNdeg) mesh=k "
                   "scale=s|sl,sh,sw delete",
           [](C& c) -> auto& { return c.edit; })
      .add("edits", "a JSON list of edits in 3D-SDN's edit-benchmark format (docs/data-format.md)",
           [](C& c) -> auto& { return c.edits; })
      .add("benchmark", "run a JSON list of edits (3D-SDN's vkitti_edit_benchmark.json format) and report L1, PSNR, "
                        "SSIM against the target frames", [](C& c) -> auto& { return c.benchmark; })
      .add("out", "output directory", [](C& c) -> auto& { return c.out; })
      .add("threads", "LibTorch threads", [](C& c) -> auto& { return c.threads; }, opt::Range{1, 256})
      .add("log-level", "trace|debug|info|warn|error|off", [](C& c) -> auto& { return c.log_level; },
           opt::Choices{"trace", "debug", "info", "warn", "error", "off"});
  return s;
}

std::vector<std::string> validate_edit(const EditConfig& c) {
  std::vector<std::string> p;
  if (c.geometric.empty()) p.push_back("--geometric is required (a derender run's `sdn predict --out` directory)");
  if (c.textural_run.empty()) p.push_back("--textural-run is required (a run trained with stage = textural)");
  if (c.out.empty()) p.push_back("--out is required");
  const int modes = !c.edit.empty() + !c.edits.empty() + !c.benchmark.empty();
  if (modes != 1) p.push_back("give exactly one of --edit (with --frame), --edits FILE, --benchmark FILE");
  if (!c.edit.empty() && c.frame.empty()) p.push_back("--edit needs --frame WORLD/VARIATION/FRAME");
  if (c.edit.empty() && !c.frame.empty()) p.push_back("--frame goes with --edit (the JSON files name their frames)");
  return p;
}

train::EditEntry entry_of(const EditConfig& c) {
  if (c.frame == "auto") {
    train::EditEntry e;
    e.edits = train::parse_edit_text(c.edit);
    return e;
  }
  const auto parts = parse::split(c.frame, '/');
  char* end = nullptr;
  const long f = parts.size() == 3 ? std::strtol(parts[2].c_str(), &end, 10) : -1;
  if (parts.size() != 3 || !end || *end != '\0' || f < 0)
    throw UsageError("--frame: '" + c.frame + "' is not WORLD/VARIATION/FRAME", "e.g. --frame 0001/clone/00356");
  train::EditEntry e;
  e.world = parts[0], e.variation = parts[1], e.source = static_cast<int>(f);
  e.edits = train::parse_edit_text(c.edit);
  return e;
}

}  // namespace

int run_edit(const Args& args) {
  auto parsed = parse_command(edit_schema(), args, validate_edit);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  dist::MpiSession mpi;
  dist::Communicator comm;
  return run_collectively(comm, [&] {
    log::init(c.log_level);
    if (comm.size() > 1)
      throw UsageError("sdn edit runs as one process, not " + std::to_string(comm.size()) + " ranks",
                       "start it without mpirun/srun");
    // Bad edits fail before the nets load.
    std::vector<train::EditEntry> entries;
    if (!c.edit.empty()) entries.push_back(entry_of(c));
    const std::string file = c.edits.empty() ? c.benchmark : c.edits;
    if (!file.empty()) entries = train::parse_edit_json(fs::read_file(file), file);
    InferenceConfig ic;
    ic.run_dir = c.textural_run;
    ic.ckpt = c.ckpt;
    ic.threads = c.threads;
    ic.log_level = c.log_level;
    train::TrainConfig cfg;
    std::unique_ptr<train::Stage> stage;
    load_trained_stage(ic, cfg, stage, comm);
    train::FrameEditOptions o;
    o.geometric_dir = c.geometric;
    o.semantic_dir = c.semantic;
    o.shards = c.shards.empty() ? cfg.data.shards : c.shards;
    o.out = c.out;
    auto bank = train::derender_run_meshes(c.derender_run, c.geometric, o.render);
    train::FrameEditor editor(*stage, c.textural_run, std::move(bank), o);
    if (c.frame == "auto") {
      auto picked = editor.busiest_frame();
      picked.edits = std::move(entries.front().edits);
      entries.front() = std::move(picked);
      spdlog::info("--frame auto: {}/{}/{:05d}", entries.front().world, entries.front().variation,
                   entries.front().source);
    }
    if (!c.benchmark.empty()) {
      std::fputs(editor.benchmark(entries).c_str(), stdout);
      spdlog::info("wrote {0}/benchmark.{{txt,json}} and the images under {0}/benchmark/", c.out);
      return kExitOk;
    }
    int done = 0;
    for (const auto& e : entries) {
      if (entries.size() > 1)
        if (auto why = editor.uncovered(e); !why.empty()) {
          spdlog::warn("skipping {}/{}/{:05d}: {}", e.world, e.variation, e.source, why);
          continue;
        }
      const auto r = editor.edit(e, c.out);
      for (const auto& line : r.applied) spdlog::info("{}", line);
      if (!r.missing.empty()) {
        std::string ids;
        for (auto id : r.missing) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
        spdlog::warn("instance id(s) {} of the edited frame have no code in the source frame's crop (drawn with "
                     "zeros, as the original)", ids);
      }
      spdlog::info("wrote {0}/{1}.png ({2}x{3}), {0}/{1}_strip.png and the edited maps under {0}/geometric/", c.out,
                   r.name, r.width, r.height);
      ++done;
    }
    if (done == 0) throw UsageError("no entry of " + file + " is covered by the shards and predictions",
                                    "predict the frames it names, or pass the matching --geometric and --data.shards");
    return kExitOk;
  });
}

}  // namespace sdn::cli

// Implements the synthetic-dataset entry points (see synth.hpp): validation, one frame's ground truth, and the
// parallel writer. Work items are (sequence, frame, camera); each writes its own image files and returns its
// rows of the text files, which are joined in frame order once every item is done, so the output does not
// depend on the number of threads.
#include "data/synth.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"
#include "core/progress.hpp"
#include "data/mesh_vehicles.hpp"
#include "data/synth_mesh.hpp"
#include "data/synth_render.hpp"
#include "data/synth_writer.hpp"

namespace sdn::data {
namespace {

constexpr int kMinSize = 16, kMaxSize = 8192;

void check_names(const std::vector<std::string>& given, const std::vector<std::string>& known, const char* what,
                 std::vector<std::string>& problems) {
  if (given.empty()) problems.push_back(std::string(what) + ": empty list (accepted: " + parse::join(known, ",") + ")");
  std::set<std::string> seen;
  for (const auto& g : given) {
    if (std::find(known.begin(), known.end(), g) == known.end())
      problems.push_back(std::string(what) + ": unknown name '" + g + "' (accepted: " + parse::join(known, ",") + ")");
    if (!seen.insert(g).second) problems.push_back(std::string(what) + ": '" + g + "' given twice");
  }
}

}  // namespace

std::vector<std::string> validate(const SynthOptions& o) {
  std::vector<std::string> p;
  if (o.out.empty()) p.push_back("out: required (the root folder of the tree to write)");
  check_names(o.worlds, worlds(), "worlds", p);
  check_names(o.variations, variations(), "variations", p);
  if (o.width < kMinSize || o.width > kMaxSize || o.height < kMinSize || o.height > kMaxSize)
    p.push_back("width x height = " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                ": each must be in [" + std::to_string(kMinSize) + ", " + std::to_string(kMaxSize) + "]");
  if (o.frames < 1) p.push_back("frames = " + std::to_string(o.frames) + ": must be at least 1");
  if (o.first_frame < 0) p.push_back("first-frame = " + std::to_string(o.first_frame) + ": must be >= 0");
  if (o.threads < 1 || o.threads > 1024) p.push_back("threads = " + std::to_string(o.threads) + ": must be in [1, 1024]");
  if (o.frames >= 1 && o.first_frame >= 0)
    for (const auto& w : o.worlds) {
      const int n = world_frame_count(w);
      if (n > 0 && o.first_frame + o.frames > n)
        p.push_back("frames " + std::to_string(o.first_frame) + ".." + std::to_string(o.first_frame + o.frames - 1) +
                    " exceed world " + w + " (frames 0.." + std::to_string(n - 1) + "): lower --frames or --first-frame");
    }
  return p;
}

Frame synth_frame(const SynthOptions& o, const std::string& world, const std::string& variation, int index,
                  int camera) {
  if (camera < 0 || camera > (o.layout == Layout::kVkitti1 ? 0 : 1))
    throw UsageError("camera " + std::to_string(camera) + " does not exist in the " + layout_name(o.layout) + " layout");
  synth::SceneModel scene(o.seed, world, o.traffic);
  const synth::Look look = synth::look_for(scene.key(), variation);
  return synth::render_frame(scene, look, o.layout, world, variation, index, camera, o.width, o.height).frame;
}

namespace synth {

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir + ": " + ec.message(), "choose an output directory you can write to");
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(path + ": cannot write (" + std::strerror(errno) + ")", "check free space and permissions");
}

// The side file naming each track's generated mesh (docs/data-format.md), so that a derenderer's shape choice
// can be scored against it. Not part of either vKITTI layout; the readers never look at it.
void write_mesh_table(const SynthOptions& o) {
  std::string text = "world trackID label model mesh mesh_name\n";
  for (const auto& w : o.worlds) {
    const SceneModel scene(o.seed, w);
    for (const TrackInfo& t : scene.tracks(o.first_frame, o.first_frame + o.frames - 1)) {
      const int mesh = vehicle_mesh_choice(scene.key(), t.track_id, t.class_id, t.model);
      text += w + " " + std::to_string(t.track_id) + " " + class_names()[t.class_id] + " " + t.model + " " +
              std::to_string(mesh) + " " + vehicle_kind_name(static_cast<VehicleKind>(mesh)) + "\n";
    }
  }
  write_text_file(o.out + "/" + kMeshTableFile, text);
}

}  // namespace synth

void write_synthetic(const SynthOptions& o) {
  auto problems = validate(o);
  if (!problems.empty()) {
    std::string msg = "invalid synthetic dataset options:";
    for (const auto& e : problems) msg += "\n  - " + e;
    throw UsageError(msg, "see 'sdn synth --help'");
  }
  fs::ensure_writable_dir(o.out);

  std::vector<std::unique_ptr<synth::SequenceWriter>> sequences;
  for (const auto& w : o.worlds)
    for (const auto& v : o.variations) {
      sequences.push_back(o.layout == Layout::kVkitti1 ? synth::make_writer_v1(o, w, v) : synth::make_writer_v2(o, w, v));
      sequences.back()->prepare();
    }
  struct Item {
    size_t sequence;
    int index, camera;
  };
  std::vector<Item> items;
  for (size_t s = 0; s < sequences.size(); ++s)
    for (int i = 0; i < o.frames; ++i)
      for (int c = 0; c < sequences[s]->cameras(); ++c) items.push_back({s, o.first_frame + i, c});
  std::vector<synth::FrameRows> rows(items.size());

  std::unique_ptr<Progress> progress;
  if (o.progress) progress = std::make_unique<Progress>("synth", static_cast<std::int64_t>(items.size()));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto worker = [&] {
    for (size_t k = next++; k < items.size() && !failed; k = next++) {
      try {
        rows[k] = sequences[items[k].sequence]->write_frame(items[k].index, items[k].camera);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
      if (progress) progress->add();
    }
  };
  std::vector<std::thread> pool;
  const int threads = std::min<int>(o.threads, static_cast<int>(items.size()));
  try {
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  } catch (...) {  // could not start a thread: stop the ones running before reporting it
    failed = true;
    for (auto& t : pool) t.join();
    throw;
  }
  worker();  // the calling thread works too
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress->finish();

  // Items are ordered by sequence, frame, camera: each sequence's rows are one contiguous run.
  size_t k = 0;
  for (auto& seq : sequences) {
    const size_t n = static_cast<size_t>(o.frames) * seq->cameras();
    seq->finish(std::vector<synth::FrameRows>(rows.begin() + static_cast<std::ptrdiff_t>(k),
                                              rows.begin() + static_cast<std::ptrdiff_t>(k + n)));
    k += n;
  }
  synth::write_mesh_table(o);
}

}  // namespace sdn::data

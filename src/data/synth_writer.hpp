// Writing one synthetic sequence (world, variation) in one layout: directories and per-sequence tables first,
// then every (frame, camera) independently and in parallel (images, plus that frame's rows of the text files),
// then the text files with the rows in frame order. One implementation per layout (synth_writer_v1/_v2.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/synth.hpp"
#include "data/synth_look.hpp"
#include "data/synth_scene.hpp"

namespace sdn::data::synth {

// The rows one (frame, camera) contributes to each per-sequence text file, in the layout's file order.
struct FrameRows {
  std::vector<std::string> files;
};

class SequenceWriter {
 public:
  SequenceWriter(const SynthOptions& options, std::string world, std::string variation)
      : options_(options), world_(std::move(world)), variation_(std::move(variation)),
        scene_(options.seed, world_, options.traffic), look_(look_for(scene_.key(), variation_)) {}
  virtual ~SequenceWriter() = default;

  virtual int cameras() const = 0;
  // Creates the folders and writes what does not depend on the frames' rows (colour encodings, info.txt).
  virtual void prepare() = 0;
  // Renders and writes the images of one frame of one camera. Thread-safe (const, no shared mutable state).
  virtual FrameRows write_frame(int index, int camera) const = 0;
  // Writes the per-sequence text files; `rows` is ordered by frame, then camera.
  virtual void finish(const std::vector<FrameRows>& rows) = 0;

  const std::string& world() const { return world_; }
  const std::string& variation() const { return variation_; }

 protected:
  const SynthOptions& options_;
  std::string world_, variation_;
  SceneModel scene_;
  Look look_;
};

std::unique_ptr<SequenceWriter> make_writer_v1(const SynthOptions& o, const std::string& world,
                                               const std::string& variation);
std::unique_ptr<SequenceWriter> make_writer_v2(const SynthOptions& o, const std::string& world,
                                               const std::string& variation);

// Shared by both writers: mkdir -p, and writing a whole text file, with Errors naming the path. No fsync: a
// synthetic tree is regenerated, not recovered, and thousands of fsyncs would dominate the run time.
void make_dirs(const std::string& dir);
void write_text_file(const std::string& path, const std::string& text);

}  // namespace sdn::data::synth

// The run journal RUN/journal.jsonl: one JSON object per line, appended by the trainer (progress, checkpoint,
// train_end) and by the job scripts through `sdn journal` (chunk_start, chunk_end, run_end, submit, cancel).
// Appends are single O_APPEND writes + fsync, so several writers in turn never interleave; readers tolerate a
// torn last line (a writer killed mid-write) and report, but skip, any other unparsable line.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sdn::journal {

using Event = nlohmann::json;

// Event kinds, written in the "event" field. Producers and the status reader agree on these names.
namespace kind {
inline constexpr const char* kProgress = "progress";        // trainer: step, total_steps, images_per_s, loss
inline constexpr const char* kCheckpoint = "checkpoint";    // trainer: step, seconds (time the save took)
inline constexpr const char* kStageData = "stage_data";    // trainer: seconds, bytes, verified, files_* (node-local
                                                            // copy of the shards)
inline constexpr const char* kTrainEnd = "train_end";       // trainer: reason complete|signal|deadline|error, step,
                                                            // wall_seconds (training, all chunks), process_seconds
inline constexpr const char* kPlan = "plan";                // sdn plan: the chosen shape
inline constexpr const char* kSubmit = "submit";            // sdn submit: mode, job_ids
inline constexpr const char* kChunkStart = "chunk_start";   // job script: job_id, restart, node, step
inline constexpr const char* kChunkEnd = "chunk_end";       // job script: exit_code, step, steps_done, action, reason
inline constexpr const char* kRunEnd = "run_end";           // job script: reason (complete, failure, no_progress, ...)
inline constexpr const char* kCancel = "cancel";            // sdn cancel: job_ids
inline constexpr const char* kPredictSubmit = "predict_submit";  // sdn pipeline submit: job_ids of a prediction job
inline constexpr const char* kPredictStart = "predict_start";    // prediction job: job_id, splits
inline constexpr const char* kPredictEnd = "predict_end";        // prediction job: job_id, exit_code
inline constexpr const char* kPredictCancel = "predict_cancel";  // sdn pipeline cancel: job_ids
}  // namespace kind

// RUN/journal.jsonl
std::string path_in(const std::string& run_dir);

// Seconds since the epoch, fractional: the clock of every "time" field.
double now_seconds();

// {"event": kind, "time": <now, seconds since the epoch, fractional>}; callers add their fields.
Event make(const std::string& event_kind);

// Appends one event as one line. Adds "time" if missing. If the file ends in a torn line (no trailing newline),
// a newline is written first so the new event stays parsable. Throws sdn::Error naming the file.
void append(const std::string& path, const Event& event);

struct ReadResult {
  std::vector<Event> events;          // every parsable object, in file order
  bool torn_tail = false;             // the last line was incomplete (ignored)
  std::vector<std::string> problems;  // "journal.jsonl:12: not a JSON object" for lines skipped in the middle
};

// Parses journal text; `origin` names the file in problems. Pure.
ReadResult parse(const std::string& text, const std::string& origin);

// Reads the journal at `path`; a missing file is an empty journal. Throws sdn::Error if it exists but cannot be read.
ReadResult read(const std::string& path);

// Typed accessors that tolerate missing or mistyped fields (journals outlive code versions).
double number_or(const Event& e, const char* key, double fallback);
std::int64_t int_or(const Event& e, const char* key, std::int64_t fallback);
std::string string_or(const Event& e, const char* key, const std::string& fallback);

}  // namespace sdn::journal

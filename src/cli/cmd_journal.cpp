// `sdn journal chunk-start|chunk-end|run-end|append`: the job scripts' only way to write the run journal.
// chunk-start/-end print one word (the decision) on stdout for the script's `case`; the reason goes to stderr
// (the job's log) and into the journal, where `sdn status` shows it.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/journal.hpp"
#include "core/options.hpp"
#include "slurm/rank_cpus.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/run_state.hpp"

namespace sdn::cli {
namespace {

using namespace sdn::slurm;

struct JournalConfig {
  std::string action;
  std::string run_dir;
  std::string job_id;
  int restart = 0;
  std::string node;
  int ranks = 0;
  int cpus_per_rank = 0;
  int max_chunks = 0;
  int exit_code = -1;
  std::string reason;
  std::string message;
  std::string event;
  std::string json = "{}";
};

opt::Schema<JournalConfig> journal_schema() {
  opt::Schema<JournalConfig> s(
      "journal", "Append to RUN/journal.jsonl (used by the generated job scripts).\n"
                 "  chunk-start: decide whether this job may train (prints run|done|stop) and record the chunk\n"
                 "  chunk-end:   record how the trainer ended (prints continue|done|stop)\n"
                 "  run-end:     record that the run stopped (--reason, --message)\n"
                 "  append:      append an event of kind --event with the fields of --json");
  s.add("action", "chunk-start | chunk-end | run-end | append", [](JournalConfig& c) -> auto& { return c.action; },
        opt::Choices{"chunk-start", "chunk-end", "run-end", "append"})
      .positional("action")
      .add("run-dir", "the run directory", [](JournalConfig& c) -> auto& { return c.run_dir; })
      .add("job-id", "Slurm job id ($SLURM_JOB_ID)", [](JournalConfig& c) -> auto& { return c.job_id; })
      .add("restart", "restart count ($SLURM_RESTART_COUNT, 0 if unset)", [](JournalConfig& c) -> auto& { return c.restart; },
           opt::Range{0, 1e9})
      .add("node", "host the chunk runs on", [](JournalConfig& c) -> auto& { return c.node; })
      .add("ranks", "chunk-start: trainer ranks ($SLURM_NTASKS; reshaping chains change it)",
           [](JournalConfig& c) -> auto& { return c.ranks; }, opt::Range{0, 1e9})
      .add("cpus-per-rank", "chunk-start: cores each rank gets ($SLURM_CPUS_PER_TASK): recorded, and checked against "
           "run.ini's train.threads + data.threads", [](JournalConfig& c) -> auto& { return c.cpus_per_rank; }, opt::Range{0, 1e6})
      .add("max-chunks", "chunk-start: loop guard", [](JournalConfig& c) -> auto& { return c.max_chunks; }, opt::Range{0, 1e9})
      .add("exit-code", "chunk-end: the trainer's exit status", [](JournalConfig& c) -> auto& { return c.exit_code; },
           opt::Range{-1, 1e9})
      .add("reason", "run-end: machine word", [](JournalConfig& c) -> auto& { return c.reason; })
      .add("message", "run-end: one sentence", [](JournalConfig& c) -> auto& { return c.message; })
      .add("event", "append: event kind", [](JournalConfig& c) -> auto& { return c.event; })
      .add("json", "append: a JSON object of fields", [](JournalConfig& c) -> auto& { return c.json; });
  return s;
}

std::vector<std::string> validate(const JournalConfig& c) {
  std::vector<std::string> e;
  if (c.action.empty()) e.push_back("action: required (chunk-start, chunk-end, run-end or append)");
  if (c.run_dir.empty()) e.push_back("run-dir: required");
  if (c.action == "chunk-start" && c.max_chunks < 1) e.push_back("chunk-start needs --max-chunks >= 1");
  if (c.action == "chunk-end" && c.exit_code < 0) e.push_back("chunk-end needs --exit-code");
  if (c.action == "run-end" && c.reason.empty()) e.push_back("run-end needs --reason");
  if (c.action == "append" && c.event.empty()) e.push_back("append needs --event");
  return e;
}

void record_run_end(const std::string& path, const std::string& reason, const std::string& message) {
  auto e = journal::make(journal::kind::kRunEnd);
  e["reason"] = reason;
  e["message"] = message;
  journal::append(path, e);
}

}  // namespace

int run_journal(const Args& args) {
  auto parsed = parse_command(journal_schema(), args, validate);
  if (!parsed) return kExitOk;
  const JournalConfig& c = *parsed;
  const std::string path = journal::path_in(c.run_dir);
  if (c.action == "append") {
    auto fields = journal::Event::parse(c.json, nullptr, /*allow_exceptions=*/false);
    if (fields.is_discarded() || !fields.is_object())
      throw UsageError("--json '" + c.json + "' is not a JSON object", "e.g. --json '{\"step\": 10, \"loss\": 0.5}'");
    auto e = journal::make(c.event);
    e.update(fields);
    journal::append(path, e);
    return kExitOk;
  }
  if (c.action == "run-end") {
    record_run_end(path, c.reason, c.message);
    return kExitOk;
  }
  const RunState state = summarize(journal::read(path).events);
  const std::int64_t step = latest_checkpoint_step(c.run_dir);
  if (c.action == "chunk-start") {
    Decision d = decide_chunk_start(state, c.max_chunks, step, c.job_id, c.restart);
    // A previous chunk of this submission that never recorded its end was killed (time limit, node failure), or
    // Slurm requeued this very job (preemption on gpu-preempt, a node failure): then it resumes, not a failure.
    const bool requeued = requeued_by_slurm(state, c.job_id, c.restart);
    if (!state.chunks.empty() && state.chunks.back().end == 0 &&
        (requeued || state.chunks.back().start >= state.submit_time)) {
      auto lost = journal::make(journal::kind::kChunkEnd);
      lost["job_id"] = state.chunks.back().job_id;
      lost["step"] = step;
      lost["exit_code"] = -1;
      lost["action"] = requeued ? "requeued" : "lost";
      lost["reason"] = requeued ? "no end recorded: Slurm requeued the job (restart " + std::to_string(c.restart) +
                                      ": preemption or node failure); the next chunk resumes from the checkpoint"
                                : std::string("no end recorded: the job was killed (time limit, node failure or scancel)");
      journal::append(path, lost);
    }
    if (d.action == "run") {
      auto e = journal::make(journal::kind::kChunkStart);
      e["job_id"] = c.job_id;
      e["restart"] = c.restart;
      e["node"] = c.node;
      if (c.ranks > 0) e["ranks"] = c.ranks;
      if (c.cpus_per_rank > 0) {
        e["cpus_per_rank"] = c.cpus_per_rank;
        const std::string ini = c.run_dir + "/run.ini";
        if (::access(ini.c_str(), R_OK) == 0) {
          const std::string warning = oversubscription_warning(read_rank_threads(IniDoc::load(ini)), c.cpus_per_rank);
          if (!warning.empty()) {
            e["warning"] = warning;
            std::fprintf(stderr, "sdn journal: warning: %s\n", warning.c_str());
          }
        }
      }
      e["step"] = step;
      e["chunk"] = state.chunks_since_submit + 1;
      journal::append(path, e);
      std::fprintf(stderr, "sdn journal: chunk %d of at most %d starts at step %lld\n", state.chunks_since_submit + 1,
                   c.max_chunks, static_cast<long long>(step));
      if (!d.message.empty()) std::fprintf(stderr, "sdn journal: %s\n", d.message.c_str());
    } else {
      std::fprintf(stderr, "sdn journal: %s\n", d.message.c_str());
      // Record a new stop once; a run that is already complete or stopped keeps its original reason.
      if (d.reason == "no_progress" || d.reason == "max_chunks") record_run_end(path, d.reason, d.message);
    }
    std::printf("%s\n", d.action.c_str());
    return kExitOk;
  }
  // chunk-end
  Decision d = decide_chunk_end(state, c.exit_code, step);
  auto e = journal::make(journal::kind::kChunkEnd);
  e["job_id"] = c.job_id;
  e["exit_code"] = c.exit_code;
  e["step"] = step;
  e["steps_done"] = step - (state.chunks.empty() ? 0 : state.chunks.back().step_start);
  e["action"] = d.action;
  e["reason"] = d.reason;
  e["message"] = d.message;
  journal::append(path, e);
  if (d.action != "continue") record_run_end(path, d.reason, d.message);
  std::fprintf(stderr, "sdn journal: %s: %s\n", d.action.c_str(), d.message.c_str());
  std::printf("%s\n", d.action.c_str());
  return kExitOk;
}

}  // namespace sdn::cli

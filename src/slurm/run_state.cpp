// Implements the journal summary and the chunk guards (see run_state.hpp).
#include "slurm/run_state.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>

#include "core/exit_codes.hpp"
#include "core/parse.hpp"

namespace sdn::slurm {

using journal::int_or;
using journal::number_or;
using journal::string_or;

RunState summarize(const std::vector<journal::Event>& events) {
  RunState s;
  for (const auto& e : events) {
    const std::string kind = string_or(e, "event", "");
    const double t = number_or(e, "time", 0);
    if (kind == journal::kind::kSubmit && e.contains("after")) {
      // A reshaping chain's successor, queued by a running job: same submission, same chunk budget.
      if (auto it = e.find("job_ids"); it != e.end() && it->is_array())
        for (const auto& id : *it) s.job_ids.push_back(id.is_string() ? id.get<std::string>() : id.dump());
    } else if (kind == journal::kind::kSubmit) {
      s.submit_time = t;
      s.mode = string_or(e, "mode", "");
      s.job_ids.clear();
      if (auto it = e.find("job_ids"); it != e.end() && it->is_array())
        for (const auto& id : *it) s.job_ids.push_back(id.is_string() ? id.get<std::string>() : id.dump());
      s.chunks_since_submit = 0;
      s.cancelled = false;
      s.stopped = false;
      if (!s.complete) {
        s.end_reason.clear();
        s.end_message.clear();
      }
    } else if (kind == journal::kind::kChunkStart) {
      ChunkRecord c;
      c.job_id = string_or(e, "job_id", "");
      c.restart = static_cast<int>(int_or(e, "restart", 0));
      c.node = string_or(e, "node", "");
      c.ranks = static_cast<int>(int_or(e, "ranks", 0));
      c.start = t;
      c.step_start = int_or(e, "step", 0);
      s.chunks.push_back(c);
      ++s.chunks_since_submit;
    } else if (kind == journal::kind::kChunkEnd) {
      if (s.chunks.empty() || s.chunks.back().end != 0) continue;  // an end without a start: ignore
      auto& c = s.chunks.back();
      c.end = t;
      c.step_end = int_or(e, "step", -1);
      c.exit_code = static_cast<int>(int_or(e, "exit_code", -1));
      c.action = string_or(e, "action", "");
      c.reason = string_or(e, "reason", "");
    } else if (kind == journal::kind::kRunEnd) {
      s.end_reason = string_or(e, "reason", "");
      s.end_message = string_or(e, "message", "");
      s.end_time = t;
      if (s.end_reason == "complete") s.complete = true;
      s.stopped = true;
    } else if (kind == journal::kind::kCancel) {
      s.cancelled = true;
      s.cancel_time = t;
    } else if (kind == journal::kind::kProgress) {
      ProgressPoint p;
      p.time = t;
      p.step = int_or(e, "step", 0);
      p.loss = number_or(e, "loss", 0);
      p.images_per_s = number_or(e, "images_per_s", 0);
      s.progress.push_back(p);
      s.total_steps = int_or(e, "total_steps", s.total_steps);
    } else if (kind == journal::kind::kCheckpoint) {
      s.ckpt_seconds_max = std::max(s.ckpt_seconds_max, number_or(e, "seconds", 0));
    } else if (kind == journal::kind::kTrainEnd) {
      s.train_end = {t, string_or(e, "reason", ""), int_or(e, "step", -1), number_or(e, "wall_seconds", 0),
                     number_or(e, "process_seconds", 0), string_or(e, "message", "")};
    }
  }
  return s;
}

namespace {

std::string no_progress_message(const ChunkRecord& c, std::int64_t latest_step, bool killed) {
  return "chunk of job " + c.job_id + (killed ? " ended without recording its end (time limit, node failure?)"
                                              : " stopped with exit 3") +
         " but RUN/ckpt/latest names step " + std::to_string(latest_step) + ", not newer than step " +
         std::to_string(c.step_start) + " at its start: no checkpoint was written. Check that RUN/ckpt is writable "
         "and that one save fits in the signal grace; then `sdn submit RUN` resumes.";
}

}  // namespace

bool requeued_by_slurm(const RunState& s, const std::string& job_id, int restart) {
  if (s.chunks.empty() || job_id.empty()) return false;
  const ChunkRecord& prev = s.chunks.back();
  return prev.end == 0 && prev.job_id == job_id && restart > prev.restart;
}

Decision decide_chunk_start(const RunState& s, int max_chunks, std::int64_t latest_step, const std::string& job_id,
                            int restart) {
  if (s.complete) return {"done", "complete", "the run is complete"};
  if (s.cancelled) return {"stop", "cancelled", "the run was cancelled with `sdn cancel`"};
  if (s.stopped)
    return {"stop", "stopped", "the run stopped (" + s.end_reason + "): " + s.end_message +
                                   " Fix the cause, then `sdn submit RUN` resumes from the last checkpoint."};
  const bool requeued = requeued_by_slurm(s, job_id, restart);
  if (!requeued && !s.chunks.empty() && s.chunks.back().end == 0 && s.chunks.back().start >= s.submit_time) {
    const auto& prev = s.chunks.back();
    if (latest_step <= prev.step_start) return {"stop", "no_progress", no_progress_message(prev, latest_step, true)};
  }
  if (s.chunks_since_submit >= max_chunks)
    return {"stop", "max_chunks",
            "the run already used " + std::to_string(s.chunks_since_submit) + " chunks, the limit for this submission is " +
                std::to_string(max_chunks) + " (loop guard). Check the throughput in the journal; re-plan with a "
                "longer time limit or --max-chunks, then `sdn submit RUN`."};
  if (requeued)
    return {"run", "requeued",
            "job " + job_id + " was requeued by Slurm (restart " + std::to_string(restart) +
                ": preemption or node failure) without ending its chunk; it resumes from step " + std::to_string(latest_step)};
  return {"run", "", ""};
}

Decision decide_chunk_end(const RunState& s, int exit_code, std::int64_t latest_step) {
  ChunkRecord current;
  if (!s.chunks.empty()) current = s.chunks.back();
  if (exit_code == kExitOk) return {"done", "complete", "training complete"};
  // The stop signals the job script forwards (USR2, TERM) can still reach a trainer that already stopped on its
  // own deadline and restored the default handlers: it then dies of the signal after a complete checkpoint.
  // Checkpoints are atomic, so a newer one is as good as an exit 3; without one the no-progress rule applies.
  const bool stop_signal_death = exit_code == 128 + SIGUSR2 || exit_code == 128 + SIGTERM;
  if (exit_code == kExitResumable || (stop_signal_death && latest_step > current.step_start)) {
    if (s.cancelled && s.cancel_time >= current.start)
      return {"stop", "cancelled", "stopped with a checkpoint at step " + std::to_string(latest_step) + " after `sdn cancel`"};
    if (latest_step <= current.step_start) return {"stop", "no_progress", no_progress_message(current, latest_step, false)};
    return {"continue", "checkpoint",
            "checkpoint at step " + std::to_string(latest_step) + "; the next chunk resumes from it" +
                (exit_code == kExitResumable ? std::string()
                                             : " (the trainer died of the forwarded stop signal after saving it)")};
  }
  std::string how = exit_code > 128 && exit_code < 160
                        ? "was killed by signal " + std::to_string(exit_code - 128) +
                              " (srun --kill-on-bad-exit ends every rank once one fails: the job log names the first, "
                              "'task N: ...')"
                        : "failed with exit code " + std::to_string(exit_code);
  // The trainer's own message when it journaled one during this chunk (its first line: hints follow in the log).
  const TrainEndRecord& end = s.train_end;
  if (end.reason == "error" && !end.message.empty() && end.time >= current.start)
    how += ": " + end.message.substr(0, end.message.find('\n'));
  return {"stop", "failure", "the trainer " + how + "; failures are never retried. See RUN/logs/ for the job's output."};
}

std::int64_t parse_latest_pointer(const std::string& text) {
  std::string t = parse::trim(text);
  auto slash = t.rfind('/');
  if (slash != std::string::npos) t = t.substr(slash + 1);
  const std::string pre = "step-", post = ".h5";
  if (t.size() <= pre.size() + post.size() || t.rfind(pre, 0) != 0 ||
      t.compare(t.size() - post.size(), post.size(), post) != 0)
    return -1;
  std::string digits = t.substr(pre.size(), t.size() - pre.size() - post.size());
  if (digits.empty() || digits.size() > 18) return -1;
  for (char ch : digits)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return -1;
  return std::stoll(digits);
}

}  // namespace sdn::slurm

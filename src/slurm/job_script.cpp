// Renders the job script (see job_script.hpp).
//
// Signal design (why `--signal=B:USR2@grace` + a forwarding trap + a `wait` loop, not step signalling):
//  1. The launcher is a per-cluster setting. With `mpirun` the ranks live in the batch step, and a signal
//     without `B:` reaches job steps only, so they would never see it; with `B:` the batch shell gets it and
//     forwards it to the launcher, and both srun and mpirun forward USR2 to every rank.
//  2. The shell that decides about the requeue must know the trainer stopped because of the time limit, and
//     must requeue only after the checkpoint is complete (`scontrol requeue` kills the job at once). Keeping the
//     trainer in the background and waiting for it gives the shell the trainer's real exit status.
//  3. bash runs a trap only between commands: `wait` returns 128+signal as soon as the trap fires, so the script
//     waits again until the trainer has really exited.
// SIGTERM (scancel, preemption on gpu-preempt, the time limit itself) is forwarded the same way; the trainer
// treats it as "checkpoint now" too.
#include "slurm/job_script.hpp"

#include <cctype>

#include "core/parse.hpp"

namespace sdn::slurm {
namespace {

bool safe_path(const std::string& p) {
  if (p.empty()) return false;
  for (char ch : p)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && std::string("._+-/").find(ch) == std::string::npos) return false;
  return true;
}

std::string train_command(const JobSpec& s) {
  return s.train_command.empty() ? s.sdn_command + " train" : s.train_command;
}

// An srun launcher gets the rank's cores and the hang protection unless the profile already spells them:
//  - since Slurm 22.05 srun does not inherit sbatch's --cpus-per-task, so without it every rank gets one core and
//    its loader and LibTorch threads share it;
//  - --kill-on-bad-exit=1 ends every rank when one exits non-zero, instead of leaving the others in an all-reduce
//    until the time limit. It is safe with the exit-3 protocol: ranks leave only after the barrier that follows the
//    stop checkpoint (train/loop.cpp), so an early exit 3 means the checkpoint is durable; the ranks srun then
//    terminates only raise their stop flag (the trainer never restores the default SIGTERM action) and exit 3 too.
// mpirun launchers start the ranks inside the batch step, which already holds every core of the job.
std::string launcher(const JobSpec& s) {
  std::string l = s.launcher;
  if (l.rfind("srun", 0) != 0 || (l.size() > 4 && l[4] != ' ')) return l;
  if (l.find("--kill-on-bad-exit") == std::string::npos) l += " --kill-on-bad-exit=1";
  if (l.find("--cpus-per-task") == std::string::npos && l.find(" -c ") == std::string::npos)
    l += " --cpus-per-task=\"$SLURM_CPUS_PER_TASK\"";
  return l;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-/=:,@%") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string shell_quote_expand(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) out += (ch == '"' || ch == '\\' || ch == '`') ? std::string("\\") + ch : std::string(1, ch);
  return out + "\"";
}

std::vector<std::string> validate_job_spec(const JobSpec& s) {
  std::vector<std::string> e;
  if (!safe_path(s.run_dir) || s.run_dir[0] != '/')
    e.push_back("run directory '" + s.run_dir + "' must be an absolute path of letters, digits and ._+-/ "
                "(it is written into #SBATCH lines)");
  if (!safe_path(s.job_name) || s.job_name.find('/') != std::string::npos)
    e.push_back("job name '" + s.job_name + "' must be letters, digits and ._+- only");
  if (s.mode != "requeue" && s.mode != "chain") e.push_back("mode '" + s.mode + "' is not requeue|chain");
  if (s.reshape && s.mode != "chain") e.push_back("reshaping needs mode chain (a requeued job keeps its shape)");
  if (s.gpu_bind != "task" && s.gpu_bind != "local-rank") e.push_back("gpu_bind '" + s.gpu_bind + "' is not task|local-rank");
  if (s.partition.empty()) e.push_back("no partition");
  if (s.nodes < 1 || s.gpus_per_node < 1 || s.cpus_per_task < 1) e.push_back("nodes, GPUs per node and CPUs per task must be >= 1");
  if (s.walltime_s < 60) e.push_back("time limit must be at least one minute (Slurm's resolution)");
  if (s.grace_s < 1 || s.grace_s >= s.walltime_s)
    e.push_back("signal grace " + std::to_string(s.grace_s) + " s must be positive and shorter than the time limit");
  if (s.grace_s > 65535) e.push_back("signal grace above 65535 s (Slurm's maximum)");
  if (s.max_chunks < 1) e.push_back("max_chunks must be >= 1");
  if (s.sdn_command.empty()) e.push_back("no sdn command");
  return e;
}

namespace {

// #SBATCH lines, the identity variables and the module/environment set, shared by the training and prediction
// scripts. `predict`: no USR2 signal and no requeue (a prediction job is not resumable, it is simply run again).
std::string render_preamble(const JobSpec& s, bool predict, const std::vector<std::string>& comments) {
  const int tasks = s.nodes * s.gpus_per_node;
  std::string o;
  auto line = [&](const std::string& text) { o += text + "\n"; };
  auto opt = [&](const std::string& text) { o += "#SBATCH " + text + "\n"; };
  line("#!/bin/bash");
  const std::string by = predict ? "`sdn pipeline plan`" : "`sdn plan`";
  line("# Generated by " + by + " for the run in " + s.run_dir + "; re-run " + by + " instead of editing.");
  for (const auto& c : comments) line("# " + c);
  opt("--job-name=" + s.job_name);
  if (!s.account.empty()) opt("--account=" + s.account);
  opt("--partition=" + s.partition);
  opt("--nodes=" + std::to_string(s.nodes));
  opt("--ntasks-per-node=" + std::to_string(s.gpus_per_node));
  if (s.gpu_bind == "task")
    opt("--gpus-per-task=1");  // Slurm binds one GPU per rank (CUDA_VISIBLE_DEVICES holds one device)
  else
    opt("--gpus-per-node=" + std::to_string(s.gpus_per_node));  // ranks see all; each uses SLURM_LOCALID
  opt("--cpus-per-task=" + std::to_string(s.cpus_per_task));
  if (s.mem_per_node_mb > 0) opt("--mem=" + std::to_string(s.mem_per_node_mb) + "M");
  opt("--time=" + parse::format_walltime(s.walltime_s));
  if (!predict) opt("--signal=B:USR2@" + std::to_string(s.grace_s));
  opt(predict || s.mode == "chain" ? "--no-requeue" : "--requeue");
  opt("--open-mode=append");
  opt("--output=" + s.run_dir + "/logs/%x-%j.out");
  opt("--chdir=" + s.run_dir);
  for (const auto& x : s.sbatch_extra) opt(x);
  line("set -euo pipefail");
  line("");
  line("RUN=" + shell_quote(s.run_dir));
  line("SDN=" + shell_quote(s.sdn_command));
  if (!predict) line("GRACE_S=" + std::to_string(s.grace_s));
  line("if [[ -z \"${SLURM_JOB_ID:-}\" ]]; then echo \"submit this script with sbatch (or: sdn " +
       std::string(predict ? "pipeline submit" : "submit $RUN") + ")\" >&2; exit 2; fi");
  line("NODE=$(hostname -s)");
  if (!predict) {
    line("RESTART=${SLURM_RESTART_COUNT:-0}");
    line("echo \"sdn job $SLURM_JOB_ID (restart $RESTART) on $NODE at $(date '+%F %T'): mode=" + s.mode +
         (s.reshape ? "+reshape" : "") + " partition=" + s.partition + " nodes=" + std::to_string(s.nodes) +
         " gpus=" + std::to_string(tasks) + " time=" + parse::format_walltime(s.walltime_s) + " signal=USR2@${GRACE_S}s\"");
  } else {
    line("echo \"sdn prediction job $SLURM_JOB_ID on $NODE at $(date '+%F %T'): partition=" + s.partition +
         " gpus=" + std::to_string(tasks) + " time=" + parse::format_walltime(s.walltime_s) + "\"");
  }
  if (!s.summary.empty()) line("echo " + shell_quote("plan: " + s.summary));
  line("");
  if (s.module_reset || !s.module_use.empty() || !s.modules.empty()) {
    line("# The module set of the sdn module file and the galyleo notebook (Lmod). Lmod reads unset variables, so");
    line("# its calls run outside `set -u` (TACC/Lmod #835).");
    line("set +u");
    if (s.module_reset) line("module reset");
    for (const auto& u : s.module_use) line("module use " + shell_quote_expand(u));
    if (!s.modules.empty()) {
      std::vector<std::string> q;
      for (const auto& m : s.modules) q.push_back(shell_quote(m));
      line("module load " + parse::join(q, " "));
    }
    line("set -u");
  }
  line("export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}");
  for (const auto& e : s.env) {
    auto eq = e.find('=');
    line("export " + e.substr(0, eq) + "=" + shell_quote_expand(e.substr(eq + 1)));
  }
  return o;
}

// A pipeline stage's first step: its inputs must exist. The gate prints run, wait (the stages making them still
// run: it has queued this job again after theirs, so this one ends without a chunk) or stop (one of them stopped;
// recorded with its reason). `on_stop` runs before the exit (a chain cancels its queued successors).
std::string render_gate(const JobSpec& s, const std::string& on_stop) {
  if (s.pipeline_dir.empty()) return "";
  std::string o;
  auto line = [&](const std::string& text) { o += text + "\n"; };
  line("");
  line("# Pipeline: start only when the earlier stages this one reads from are done (sdn pipeline gate).");
  line("gate=$(\"$SDN\" pipeline gate " + shell_quote(s.pipeline_dir) + " --node " + shell_quote(s.pipeline_node) +
       " --job-id \"$SLURM_JOB_ID\")");
  line("case \"$gate\" in");
  line("  run) ;;");
  line("  wait) echo \"sdn job: earlier stages still running; queued again after their jobs\"; exit 0 ;;");
  line("  *) echo \"sdn job: not starting: an earlier stage stopped (see 'sdn pipeline status " + s.pipeline_dir +
       "')\"; " + on_stop + "exit 1 ;;");
  line("esac");
  return o;
}

}  // namespace

std::string render_sbatch(const JobSpec& s) {
  const bool chain = s.mode == "chain";
  std::vector<std::string> comments;
  if (!chain) {
    comments = {"Mode requeue: after a clean stop (exit 3, checkpoint complete) the job requeues itself",
                "(scontrol requeue) and starts again from the top with the same job id."};
  } else if (!s.reshape) {
    comments = {"Mode chain: `sdn submit` queues this script several times, each after the previous one ends",
                "(--dependency=afterany); a job that finds the run finished exits at once."};
  } else {
    comments = {"Mode chain, reshaping: one job is queued at a time; each one that continues re-plans the rest of the run",
                "(sdn submit --after: the shape that finishes first now) and queues its successor with --dependency=afterany."};
  }
  comments.push_back("Exit codes of the trainer: 0 complete, 3 stopped with a valid checkpoint, other = failure (never retried).");
  std::string o = render_preamble(s, false, comments);
  auto line = [&](const std::string& text) { o += text + "\n"; };
  line("");
  if (chain) {
    line("# Leaves no queued successors behind once the run is finished or stopped.");
    line("cancel_successors() { scancel --name=\"$SLURM_JOB_NAME\" --state=PENDING --user=\"$(id -un)\" || true; }");
  }
  o += render_gate(s, chain ? "cancel_successors; " : "");
  line("# Refuses to train if the run is complete, stopped, cancelled or over its chunk budget (loop guard).");
  line("action=$(\"$SDN\" journal chunk-start --run-dir \"$RUN\" --job-id \"$SLURM_JOB_ID\" --restart \"$RESTART\" "
       "--node \"$NODE\" --ranks \"${SLURM_NTASKS:-0}\" --cpus-per-rank \"${SLURM_CPUS_PER_TASK:-1}\" --max-chunks " +
       std::to_string(s.max_chunks) + ")");
  line("case \"$action\" in");
  line("  run) ;;");
  line(std::string("  done) echo \"sdn job: run already complete\"; ") + (chain ? "cancel_successors; " : "") + "exit 0 ;;");
  line(std::string("  *) echo \"sdn job: not starting (see 'sdn status $RUN')\"; ") + (chain ? "cancel_successors; " : "") +
       "exit 1 ;;");
  line("esac");
  line("");
  line("# The trainer's watchdog reads this job's end from Slurm itself (stop.deadline = 0) and stops in time even");
  line("# if the signal is late or lost.");
  const std::string l = launcher(s);
  line(l + (l.empty() ? "" : " ") + train_command(s) +
       " --config \"$RUN/run.ini\" --run-dir \"$RUN\" &");
  line("trainer=$!");
  line("forward() { echo \"sdn job: SIG$1 at $(date +%T), forwarding to the trainer\"; kill -s \"$1\" \"$trainer\" 2>/dev/null || true; }");
  line("trap 'forward USR2' USR2");
  line("trap 'forward TERM' TERM");
  line("rc=0");
  line("wait \"$trainer\" || rc=$?");
  line("while kill -0 \"$trainer\" 2>/dev/null; do rc=0; wait \"$trainer\" || rc=$?; done");
  line("trap - USR2 TERM");
  line("echo \"sdn job: trainer exited with $rc at $(date +%T)\"");
  line("");
  line("# continue: exit 3 with a newer checkpoint; done: exit 0; stop: failure, no progress, cancelled, over budget.");
  line("action=$(\"$SDN\" journal chunk-end --run-dir \"$RUN\" --job-id \"$SLURM_JOB_ID\" --exit-code \"$rc\")");
  line("case \"$action\" in");
  if (chain && s.reshape) {
    line("  continue)");
    line("    # Re-plan the rest for the shape that finishes first now (sbatch --test-only) and queue it after this job;");
    line("    # elastic resume carries the run to the new GPU count.");
    line("    if ! \"$SDN\" submit \"$RUN\" --after \"$SLURM_JOB_ID\"; then");
    line("      \"$SDN\" journal run-end --run-dir \"$RUN\" --reason reshape_failed --message \"re-planning after job $SLURM_JOB_ID failed (see its log)\"");
    line("      exit 1");
    line("    fi");
    line("    exit 0 ;;");
    line("  done) exit 0 ;;");
    line("  *) exit 1 ;;");
  } else if (chain) {
    line("  continue) exit 0 ;;  # the next queued job (afterany) resumes from the checkpoint");
    line("  done) cancel_successors; exit 0 ;;");
    line("  *) cancel_successors; exit 1 ;;");
  } else {
    line("  continue)");
    line("    # The trainer has exited, so the checkpoint is complete: requeueing (which kills this job at once) loses nothing.");
    line("    if ! scontrol requeue \"$SLURM_JOB_ID\"; then");
    line("      # Slurm may have requeued the job already (preemption with PreemptMode=REQUEUE, which also sent the TERM");
    line("      # that stopped the trainer): its restart count then exceeds ours and it starts again by itself.");
    line("      now=$(scontrol show job \"$SLURM_JOB_ID\" 2>/dev/null | sed -n 's/.*Restarts=\\([0-9]*\\).*/\\1/p' || true)");
    line("      if [[ \"${now:-0}\" -gt \"$RESTART\" ]]; then echo \"sdn job: Slurm already requeued the job (restart $now)\"; exit 0; fi");
    line("      \"$SDN\" journal run-end --run-dir \"$RUN\" --reason requeue_failed --message \"scontrol requeue $SLURM_JOB_ID failed\"");
    line("      exit 1");
    line("    fi");
    line("    exit 0 ;;");
    line("  done) exit 0 ;;");
    line("  *) exit 1 ;;");
  }
  line("esac");
  return o;
}

std::string render_predict_sbatch(const JobSpec& s, const std::vector<std::string>& splits, const std::string& out_dir) {
  std::string o = render_preamble(s, true, {"Prediction job of a pipeline stage: `sdn predict` of the trained run for each split, recorded",
                                            "in the run's journal (predict_start, predict_end); `sdn pipeline submit` runs it again if it failed."});
  auto line = [&](const std::string& text) { o += text + "\n"; };
  o += render_gate(s, "");
  line("");
  line("OUT=" + shell_quote(out_dir));
  line("\"$SDN\" journal append --run-dir \"$RUN\" --event predict_start --json \"{\\\"job_id\\\": \\\"$SLURM_JOB_ID\\\"}\"");
  line("rc=0");
  const std::string l = launcher(s);
  line("for split in " + parse::join(splits, " ") + "; do");
  line("  " + l + (l.empty() ? "" : " ") + (s.predict_command.empty() ? s.sdn_command + " predict" : s.predict_command) + " --run-dir \"$RUN\" --split \"$split\" --out \"$OUT\" || { rc=$?; break; }");
  line("done");
  line("echo \"sdn prediction job: exit $rc at $(date +%T)\"");
  line("\"$SDN\" journal append --run-dir \"$RUN\" --event predict_end --json \"{\\\"job_id\\\": \\\"$SLURM_JOB_ID\\\", \\\"exit_code\\\": $rc}\"");
  line("exit \"$rc\"");
  return o;
}

}  // namespace sdn::slurm

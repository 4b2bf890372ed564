# Shared helpers of the Slurm integration tests (sourced). Environment from tests/slurm/CMakeLists.txt:
# SDN_BIN (the sdn binary), SDN_TEST_CLUSTER (the fixture cluster's dir), SDN_SOURCE_DIR, SDN_TEST_WORK.
set -euo pipefail
: "${SDN_BIN:?}" "${SDN_TEST_CLUSTER:?}" "${SDN_SOURCE_DIR:?}" "${SDN_TEST_WORK:?}"
export SLURM_CONF=$SDN_TEST_CLUSTER/slurm.conf
FAKE=$SDN_SOURCE_DIR/tests/slurm/fake_trainer.sh

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

# A fresh work dir for one test.
workdir() {
  local d=$SDN_TEST_WORK/$1
  rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# stage_ini FILE STEPS: a stage config with the trainer's keys that `sdn plan` and the stand-in read.
stage_ini() {
  printf 'stage = semantic\n[train]\nepochs = 1\niterations_per_epoch = %d\nglobal_batch = 2\nper_rank_batch = 1\n' "$2" > "$1"
}

# follow RUN TIMEOUT: `sdn status --follow` with a time limit; returns its exit code (0 = complete).
follow() {
  local rc=0
  timeout "$2" "$SDN_BIN" status "$1" --follow --interval 5 > "$1/status.log" 2>&1 || rc=$?
  "$SDN_BIN" status "$1" || true
  return $rc
}

# journal_count RUN KIND: number of events of that kind.
journal_count() { grep -c "\"event\":\"$2\"" "$1/journal.jsonl" || true; }

# Job ids of this run still in the queue (empty when none).
jobs_left() { squeue -h -n "$(sed -n 's/^job_name = //p' "$1/jobs/plan.ini")" -o %i; }

# Nothing of this run may stay in the queue after a test.
no_jobs_left() {
  [[ -z "$(jobs_left "$1")" ]] || { scancel -n "$(sed -n 's/^job_name = //p' "$1/jobs/plan.ini")"; fail "jobs of $1 still queued"; }
}

# check_chunks RUN TOTAL MIN: the journal lists at least MIN chunks, each with a job id and node, ended, and
# starting where the previous one ended; all but the last continued (exit 3, newer checkpoint), the last one
# completed the run at step TOTAL.
check_chunks() {
  /usr/bin/python3 - "$1/journal.jsonl" "$2" "$3" <<'PY' || fail "journal check failed ($1/journal.jsonl)"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
total, least = int(sys.argv[2]), int(sys.argv[3])
starts = [e for e in events if e["event"] == "chunk_start"]
ends = [e for e in events if e["event"] == "chunk_end"]
assert len(starts) >= least, f"only {len(starts)} chunk(s); the scenario needs >= {least}"
assert len(starts) == len(ends), (len(starts), len(ends))
prev = 0
for s, e in zip(starts, ends):
    assert s["step"] == prev, ("chunk starts at", s["step"], "expected", prev)
    assert e["job_id"] == s["job_id"] and s["job_id"] and s["node"], (s, e)
    assert e["step"] > s["step"], ("no progress in chunk", s, e)
    prev = e["step"]
for e in ends[:-1]:
    assert e["exit_code"] == 3 and e["action"] == "continue", e
assert ends[-1]["action"] == "done" and ends[-1]["step"] == total, ends[-1]
run_end = [e for e in events if e["event"] == "run_end"]
assert run_end and run_end[-1]["reason"] == "complete", run_end
print("journal ok:", len(starts), "chunks")
PY
}

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

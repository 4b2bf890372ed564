# Shared helpers of the trainer integration tests (sourced by tests/integration/*.sh). Each test gets its own
# temp dir with a tiny synthetic dataset (8 frames of 160x48, packed once) and a small config (DRN-D-22,
# short side 48, one LibTorch thread), and runs the real `sdn train` in it. Environment: SDN (the sdn
# binary; ctest sets it), optional SDN_TEST_SEED (reproduce the random moments of a failed run) and
# SDN_KEEP_TEST_DIR=1 (keep the temp dir for inspection).
set -euo pipefail
: "${SDN:?SDN must name the sdn binary (ctest passes SDN=\$<TARGET_FILE:sdn>)}"
PY=/usr/bin/python3  # Debian's interpreter: it has h5py (the pyenv one first on PATH does not)
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/sdn-itest.XXXXXX")
SHARDS=$T/shards
CONFIG=$T/train.ini
SDN_TEST_SEED=${SDN_TEST_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SDN_TEST_SEED
declare -a _CLEANUP=()

# Commands run at exit (in reverse order), also when a check fails: unmounts, chattr -i, stray trainers.
on_exit() { _CLEANUP+=("$1"); }
_finish() {
  local rc=$?
  for ((i = ${#_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_CLEANUP[$i]}" || true; done
  if [[ $rc -ne 0 && $rc -ne 77 ]]; then
    echo "(random moments from SDN_TEST_SEED=$SDN_TEST_SEED; work dir $T$([[ ${SDN_KEEP_TEST_DIR:-0} == 1 ]] || echo ', removed'))" >&2
  fi
  [[ ${SDN_KEEP_TEST_DIR:-0} == 1 ]] || rm -rf "$T"
  exit $rc
}
trap _finish EXIT

note() { echo "--- $*"; }
check() { echo "CHECK: $*"; }
pass() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
# fail MESSAGE [FILE...]: the message, then the tail of each file given (trainer logs) as context.
fail() {
  local msg=$1; shift
  echo "FAIL: $msg" >&2
  for f in "$@"; do
    [[ -e $f ]] || continue
    echo "----- last lines of $f:" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

# The dataset and the base config. Steps, batches and checkpoint cadence come from each test's arguments.
make_data() {
  note "making the tiny synthetic dataset in $T"
  "$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 8 --width 160 --height 48 \
    --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
  "$SDN" pack --src "$T/tree" --out "$SHARDS" --split train --log-level warn > "$T/pack.log" 2>&1 ||
    fail "sdn pack failed" "$T/pack.log"
  cat > "$CONFIG" <<'EOF'
# Integration-test config: seconds per step on two busy cores; every sample has the same size (one short
# side, frames of one size), so no padding differs between batch layouts.
stage = semantic
[data]
threads = 1
prefetch = 2
[model]
arch = drn_d_22
num_classes = 14
sync_bn = true
[augment]
short_sides = 48
max_long_side = 256
flip = true
[train]
epochs = 1
iterations_per_epoch = 8
global_batch = 2
per_rank_batch = 2
seed = 304
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
keep_last = 3
[stop]
signals = USR2,TERM
margin_seconds = 10
EOF
}

# train_args RUN [overrides...]: the full `sdn train` argument list (every start names the config, so a run
# never depends on what an earlier start wrote into RUN/run.ini).
train_args() {
  local run=$1; shift
  echo train --config "$CONFIG" --run-dir "$run" --data.shards "$SHARDS" "$@"
}

# train LOG RUN [overrides...]: one single-process start in the foreground; returns its exit code.
train() {
  local log=$1 run=$2; shift 2
  local rc=0
  # shellcheck disable=SC2046
  "$SDN" $(train_args "$run" "$@") > "$log" 2>&1 || rc=$?
  return $rc
}

# start_train LOG RUN [overrides...]: the same in the background; sets TRAIN_PID.
start_train() {
  local log=$1 run=$2; shift 2
  # shellcheck disable=SC2046
  "$SDN" $(train_args "$run" "$@") > "$log" 2>&1 &
  TRAIN_PID=$!
  on_exit "kill -9 $TRAIN_PID 2>/dev/null"
}

# wait_rc PID: sets RC to its exit code (137 = SIGKILL) without tripping `set -e` (not in $(...): a subshell
# cannot wait for its parent's children).
wait_rc() {
  RC=0
  { wait "$1"; } 2>/dev/null || RC=$?  # (quiet: bash would report "Killed" for every kill -9)
}

# A per-rank wrapper for mpirun: records each rank's pid (so a test can signal ONE rank) and exit code.
write_rank_wrapper() {
  cat > "$T/rank.sh" <<'EOF'
#!/bin/bash
# rank.sh DIR CMD...: runs CMD as this rank; writes DIR/pid.<rank> and DIR/rc.<rank>.
d=$1; shift
r=${OMPI_COMM_WORLD_RANK:?not started by mpirun}
"$@" &
p=$!
echo $p > "$d/pid.$r"
wait $p
rc=$?
echo $rc > "$d/rc.$r"
exit $rc
EOF
  chmod +x "$T/rank.sh"
}

# train_mpi LOG RUN [overrides...]: a 2-rank start in the foreground; returns mpirun's exit code. Rank pids and
# exit codes land in LOG.d/pid.<r> and LOG.d/rc.<r>.
train_mpi() {
  local log=$1 run=$2; shift 2
  [[ -x $T/rank.sh ]] || write_rank_wrapper
  rm -rf "$log.d" && mkdir -p "$log.d"
  local rc=0
  # shellcheck disable=SC2046
  "${MPIRUN[@]}" "$T/rank.sh" "$log.d" "$SDN" $(train_args "$run" "$@") > "$log" 2>&1 || rc=$?
  return $rc
}
start_train_mpi() {
  local log=$1 run=$2; shift 2
  [[ -x $T/rank.sh ]] || write_rank_wrapper
  rm -rf "$log.d" && mkdir -p "$log.d"
  # shellcheck disable=SC2046
  "${MPIRUN[@]}" "$T/rank.sh" "$log.d" "$SDN" $(train_args "$run" "$@") > "$log" 2>&1 &
  TRAIN_PID=$!
  on_exit "kill -9 $TRAIN_PID 2>/dev/null"
}
# rank_pid LOG R: the pid of rank R of a start_train_mpi (waits until the wrapper wrote it).
rank_pid() {
  wait_until 60 "[[ -s $1.d/pid.$2 ]]" || fail "rank $2 never started" "$1"
  cat "$1.d/pid.$2"
}

# wait_until SECONDS 'CONDITION': polls every 0.05 s; returns 1 on timeout.
wait_until() {
  local end=$((SECONDS + $1))
  until eval "$2"; do
    ((SECONDS < end)) || return 1
    sleep 0.05
  done
}

# steps_logged LOG: progress lines ("step K/N") the trainer printed so far.
steps_logged() {
  local n
  n=$(grep -c '\] step [0-9]*/' "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# step_ms LOG: the shortest time in milliseconds between two of the trainer's progress lines in LOG (at least
# 100): how long a step takes on this machine at best. Random moments are drawn within a few of these, so a
# machine that gets faster during a test cannot carry a trial past the end of training.
step_ms() {
  awk -F'[][]' '/\] step [0-9]+\//{ split($2, a, /[ :]/); t = a[2] * 3600 + a[3] * 60 + a[4]
      if (n++ && (m == "" || t - p < m)) m = t - p; p = t }
    END { v = m == "" ? 1000 : 1000 * m; printf "%d", v < 100 ? 100 : v }' "$1"
}

# rand_ms LO HI: a random duration in seconds (for sleep), from LO to HI milliseconds.
rand_ms() {
  local ms=$(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) ))
  printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

ckpt_file() { printf '%s/ckpt/step-%08d.h5' "$1" "$2"; }
# ckpt_steps RUN: the steps of the checkpoint files present, ascending, one per line.
ckpt_steps() {
  local f
  for f in "$1"/ckpt/step-*.h5; do
    [[ -e $f ]] || continue
    f=${f##*/step-}
    echo $((10#${f%.h5}))
  done
}

digest() { "$SDN" ckpt digest "$1" | awk '{print $1}'; }

# resumed_step LOG: N of the trainer's "resumed from FILE at step N/TOTAL" line, or "none".
resumed_step() {
  local n
  n=$(sed -n 's/.*resumed from .* at step \([0-9]*\)\/.*/\1/p' "$1" | tail -n 1)
  echo "${n:-none}"
}
resumed_file() { sed -n 's/.*resumed from \(.*\) at step [0-9]*\/.*/\1/p' "$1" | tail -n 1; }

# stopped_step LOG: S of "training stopped at step S/TOTAL" (or "complete at"), or "none".
stopped_step() {
  local n
  n=$(sed -n 's/.*training \(stopped\|complete\) at step \([0-9]*\)\/.*/\2/p' "$1" | tail -n 1)
  echo "${n:-none}"
}

# expect_rc WHAT GOT WANT [LOG...]
expect_rc() { [[ $2 == "$3" ]] || fail "$1: exit code $2, expected $3" "${@:4}"; }

# expect_resumed LOG STEP: the start resumed from exactly that checkpoint (or started fresh for "none").
expect_resumed() {
  local got
  got=$(resumed_step "$1")
  [[ $got == "$2" ]] || fail "$1: resumed at step $got, expected $2 (the newest complete checkpoint)" "$1"
  if [[ $2 != none && $(resumed_file "$1") != */$(basename "$(ckpt_file x "$2")") ]]; then
    fail "$1: resumed from $(resumed_file "$1"), expected step $2's file" "$1"
  fi
}

# verify_all RUN: every checkpoint present verifies.
verify_all() {
  local f out
  for f in "$1"/ckpt/step-*.h5; do
    [[ -e $f ]] || continue
    out=$("$SDN" ckpt verify "$f" 2>&1) || fail "checkpoint $f does not verify: $out"
  done
}

# expect_same_metrics REF RUN: RUN/logs/metrics.tsv is byte-identical to REF's (the diff on failure).
expect_same_metrics() {
  cmp -s "$1/logs/metrics.tsv" "$2/logs/metrics.tsv" && return 0
  diff "$1/logs/metrics.tsv" "$2/logs/metrics.tsv" >&2 || true
  fail "RUN/logs/metrics.tsv differs from the uninterrupted run's"
}

# losses RUN: "step loss" per line from RUN/logs/metrics.tsv.
losses() { sed -n 's/^\([0-9]*\)\t.*loss=\([^\t]*\).*/\1 \2/p' "$1/logs/metrics.tsv"; }

# journal_last RUN EVENT FIELD: FIELD of the last EVENT line of RUN/journal.jsonl.
journal_last() {
  grep "\"event\":\"$2\"" "$1/journal.jsonl" | tail -n 1 | sed -n "s/.*\"$3\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

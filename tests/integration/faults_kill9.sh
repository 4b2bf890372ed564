#!/bin/bash
# Issue 4 §5, kill -9: one run killed 10 times, 5 times at random moments (during start-up and the
# checkpoint read, a step, or a save) and once at each phase of a checkpoint write (the trainer's test seam
# SDN_TEST_KILL_AT_PHASE). After every kill each checkpoint present verifies; the next start resumes from the
# newest complete one (its "resumed from ... at step N" line against the files), never from a torn file;
# and the run finally ends with the uninterrupted run's weights and metrics.
source "$(dirname "$0")/lib.sh"
STEPS=12
EVERY=2
COMMON=(--train.iterations_per_epoch $STEPS --ckpt.every_steps $EVERY --ckpt.keep_last 3)
make_data

note "uninterrupted reference run ($STEPS steps)"
train "$T/ref.log" "$T/ref" "${COMMON[@]}" || fail "reference run failed (exit $?)" "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
STEP_MS=$(step_ms "$T/ref.log")
SAVE_MS=$(sed -n 's/.*\] checkpoint .* (\([0-9.]*\) s)$/\1/p' "$T/ref.log" | sort -g | tail -n 1 | awk '{ printf "%d", 1000 * $1 + 1 }')
echo "reference digest $REF, ${STEP_MS} ms per step, ${SAVE_MS} ms per checkpoint"

RUN=$T/run
expected=none  # the checkpoint the next start must resume from
n=0
held_lock=0    # whether the last killed start had taken RUN/LOCK (it logs "training ..." after that)

# check_start LOG: what this start resumed from, as far as it got before it died.
check_start() {
  if grep -q "skipping damaged checkpoint" "$1"; then fail "$1: a checkpoint was damaged after a kill" "$1"; fi
  if grep -q "resumed from" "$1" || (($(steps_logged "$1") > 0)); then expect_resumed "$1" "$expected"; fi
  if ((held_lock)) && grep -q "\] training semantic" "$1" && ! grep -q "took over a stale lock" "$1"; then
    fail "$1: the killed trainer's RUN/LOCK was not reported as taken over" "$1"
  fi
}
# after_kill WHAT: every checkpoint verifies; the newest is what the next start must take.
after_kill() {
  [[ $RC == 137 ]] || fail "trial $n ($1): exit code $RC, expected 137 (SIGKILL)" "$LOG"
  check_start "$LOG"
  held_lock=$(grep -c "\] training semantic" "$LOG" || true)
  verify_all "$RUN"
  local newest
  newest=$(ckpt_steps "$RUN" | tail -n 1)
  expected=${newest:-none}
  pass "trial $n: killed $1; checkpoints now: $(ckpt_steps "$RUN" | tr '\n' ' ')(next start must resume at $expected)"
}

random_kill() {
  n=$((n + 1)); LOG=$T/trial$n.log
  local base=${expected/none/0} j delay
  j=$((RANDOM % 3))
  ((base + j + 4 < STEPS)) || j=0  # never let a trial reach the end of training
  delay=$(rand_ms 0 $((2 * STEP_MS + SAVE_MS)))  # up to two steps and a save (or the start-up)
  start_train "$LOG" "$RUN" "${COMMON[@]}"
  wait_until 300 "(( \$(steps_logged $LOG) >= $j )) || ! kill -0 $TRAIN_PID 2>/dev/null" || fail "trial $n: no step $j" "$LOG"
  sleep "$delay"
  kill -9 "$TRAIN_PID" 2>/dev/null || true
  wait_rc "$TRAIN_PID"
  after_kill "after $j step(s) + ${delay}s"
}

phase_kill() {
  n=$((n + 1)); LOG=$T/trial$n.log
  local phase=$1 base=${expected/none/0}
  local x=$(( (base / EVERY + 1) * EVERY ))  # the first save of this start
  SDN_TEST_KILL_AT_PHASE=$phase start_train "$LOG" "$RUN" "${COMMON[@]}"
  wait_rc "$TRAIN_PID"
  local f
  f=$(ckpt_file "$RUN" $x)
  case $phase in
    renamed)  # complete under its name, `latest` not moved yet: the next start must still take it
      [[ -f $f ]] || fail "trial $n: killed after the rename, but $f is missing" "$LOG"
      ! grep -qx "$(basename "$f")" "$RUN/ckpt/latest" 2>/dev/null || fail "trial $n: latest already names $f"
      ;;
    *)  # only a temporary exists; the checkpoint name must not
      [[ ! -e $f ]] || fail "trial $n: killed at phase '$phase', yet $f exists" "$LOG"
      compgen -G "$f.tmp.*" > /dev/null || fail "trial $n: killed at phase '$phase', no temporary $f.tmp.* left" "$LOG"
      ;;
  esac
  after_kill "at write phase '$phase' of the step-$x checkpoint"
}

note "10 kills"
random_kill
phase_kill created
random_kill
phase_kill tensors
phase_kill meta
random_kill
phase_kill flushed
phase_kill renamed
random_kill
random_kill

note "final start, no kill"
LOG=$T/final.log
rc=0; train "$LOG" "$RUN" "${COMMON[@]}" || rc=$?
expect_rc "final start" $rc 0 "$LOG"
check_start "$LOG"
echo "starts that took over a killed trainer's lock: $(grep -l "took over a stale lock" "$T"/trial*.log "$LOG" | wc -l)"
if compgen -G "$RUN/ckpt/*.tmp.*" > /dev/null; then fail "temporaries of killed writes left behind: $(ls "$RUN/ckpt")"; fi
check "final weights and metrics equal the uninterrupted run's"
GOT=$(digest "$(ckpt_file "$RUN" $STEPS)")
[[ $GOT == "$REF" ]] || fail "digest $GOT after $n kills, $REF uninterrupted"
expect_same_metrics "$T/ref" "$RUN"
pass "$n kills: every checkpoint stayed valid, every start took the newest, the result is unchanged"

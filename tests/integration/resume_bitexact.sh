#!/bin/bash
# Issue 4 §4, bit-exact resume: one process, one thread. A run interrupted into 5 segments (SIGUSR2 at a random
# moment twice, a step limit, SIGUSR2 again, then the rest) must end with the same weights (`sdn ckpt digest`)
# and a byte-identical RUN/logs/metrics.tsv as the same run uninterrupted.
source "$(dirname "$0")/lib.sh"
STEPS=12
COMMON=(--train.iterations_per_epoch $STEPS --ckpt.every_steps 4)
make_data

note "uninterrupted reference run ($STEPS steps)"
train "$T/ref.log" "$T/ref" "${COMMON[@]}" || fail "reference run failed (exit $?)" "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
STEP_MS=$(step_ms "$T/ref.log")  # the signal's window: one step
echo "reference digest $REF, ${STEP_MS} ms per step"

RUN=$T/seg
done_step=0
segments=()
# signal_segment N: SIGUSR2 at a random moment: during start-up (the checkpoint read, the loader's first
# batch) or the first step, or within the step after it (forward/backward, the loader wait, the metrics
# all-reduce, a periodic save).
signal_segment() {
  local log=$T/seg$1.log j=$((RANDOM % 2)) delay
  start_train "$log" "$RUN" "${COMMON[@]}"
  wait_until 300 "(( \$(steps_logged $log) >= $j )) && grep -q '\\] training semantic' $log || ! kill -0 $TRAIN_PID 2>/dev/null" ||
    fail "segment $1 never started" "$log"
  delay=$(rand_ms 0 "$STEP_MS")
  sleep "$delay"
  kill -USR2 "$TRAIN_PID" 2>/dev/null || true
  wait_rc "$TRAIN_PID"
  expect_rc "segment $1 (SIGUSR2 ${delay}s after step $j of this start)" "$RC" 3 "$log"
  check_segment "$1" "$log" signal
}
# check_segment N LOG REASON: resumed where the previous segment stopped; stopped with a checkpoint.
check_segment() {
  local n=$1 log=$2 reason=$3
  expect_resumed "$log" "$([[ $done_step == 0 ]] && echo none || echo $done_step)"
  local s
  s=$(stopped_step "$log")
  [[ $s != none && $s -gt $done_step && $s -lt $STEPS ]] || fail "segment $n stopped at step '$s' (started at $done_step)" "$log"
  [[ $(journal_last "$RUN" train_end reason) == "$reason" ]] || fail "segment $n: journal train_end reason is not $reason" "$RUN/journal.jsonl"
  [[ $(journal_last "$RUN" train_end step) == "$s" ]] || fail "segment $n: journal train_end step differs from the log ($s)" "$RUN/journal.jsonl"
  [[ -f $(ckpt_file "$RUN" "$s") ]] || fail "segment $n stopped at $s but $(ckpt_file "$RUN" "$s") does not exist" "$log"
  segments+=("$done_step->$s ($reason)")
  done_step=$s
  pass "segment $n: steps ${segments[-1]}"
}

note "interrupted run: SIGUSR2, SIGUSR2, step limit, SIGUSR2, rest"
signal_segment 1
signal_segment 2
rc=0
train "$T/seg3.log" "$RUN" "${COMMON[@]}" --stop.max_steps_this_run 2 || rc=$?
expect_rc "segment 3 (--stop.max_steps_this_run 2)" $rc 3 "$T/seg3.log"
check_segment 3 "$T/seg3.log" step_limit
signal_segment 4
rc=0
train "$T/seg5.log" "$RUN" "${COMMON[@]}" || rc=$?
expect_rc "last segment" $rc 0 "$T/seg5.log"
expect_resumed "$T/seg5.log" $done_step
segments+=("$done_step->$STEPS (complete)")
echo "segments: ${segments[*]}"

check "final weights equal the uninterrupted run's (digest)"
GOT=$(digest "$(ckpt_file "$RUN" $STEPS)")
[[ $GOT == "$REF" ]] || {
  "$SDN" ckpt diff "$(ckpt_file "$T/ref" $STEPS)" "$(ckpt_file "$RUN" $STEPS)" || true
  fail "digest $GOT after resuming, $REF uninterrupted"
}
check "metrics.tsv identical to the uninterrupted run's"
expect_same_metrics "$T/ref" "$RUN"
[[ $(wc -l < "$RUN/logs/metrics.tsv") -eq $STEPS ]] || fail "metrics.tsv has $(wc -l < "$RUN/logs/metrics.tsv") lines, expected $STEPS"
pass "bit-exact after ${#segments[@]} segments"

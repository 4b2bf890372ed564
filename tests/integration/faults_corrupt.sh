#!/bin/bash
# Issue 4 §5, damaged checkpoints: the newest checkpoint truncated, later the newest one with one flipped bit
# in a tensor's data. Each is reported by `sdn ckpt verify` (exit 1), and a resume falls back to the previous
# checkpoint saying why; the run still ends with the uninterrupted run's weights and metrics.
source "$(dirname "$0")/lib.sh"
STEPS=10
COMMON=(--train.iterations_per_epoch $STEPS --ckpt.every_steps 2 --ckpt.keep_last 3)
make_data

note "uninterrupted reference run ($STEPS steps)"
train "$T/ref.log" "$T/ref" "${COMMON[@]}" || fail "reference run failed (exit $?)" "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
RUN=$T/run

# damaged_newest LOG FILE PREVIOUS WHY: the start that produced LOG skipped FILE (giving WHY) and resumed from
# PREVIOUS.
damaged_newest() {
  grep -q "skipping damaged checkpoint $2" "$1" || fail "$1: no warning that $2 was skipped" "$1"
  grep "skipping damaged checkpoint $2" "$1" | grep -q "$4" || fail "$1: the warning about $2 does not say '$4'" "$1"
  echo "  log: $(grep -m1 "skipping damaged checkpoint" "$1" | sed 's/.*\] skipping/skipping/' | cut -c1-200)"
  expect_resumed "$1" "$3"
}
# verify_fails FILE WHY: `sdn ckpt verify` exits 1 and names the problem.
verify_fails() {
  local out rc=0
  out=$("$SDN" ckpt verify "$1" 2>&1) || rc=$?
  echo "$out" | sed 's/^/  verify: /' | cut -c1-200
  expect_rc "sdn ckpt verify of the damaged $1" $rc 1
  grep -q DAMAGED <<< "$out" || fail "sdn ckpt verify does not call $1 damaged: $out"
  grep -q "$2" <<< "$out" || fail "sdn ckpt verify does not say '$2': $out"
  VERIFY_OUT=$out
}

note "segment 1: 6 steps (checkpoints 2, 4, 6)"
rc=0; train "$T/s1.log" "$RUN" "${COMMON[@]}" --stop.max_steps_this_run 6 || rc=$?
expect_rc "segment 1" $rc 3 "$T/s1.log"
[[ $(ckpt_steps "$RUN" | tr '\n' ' ') == "2 4 6 " ]] || fail "expected checkpoints 2 4 6, found: $(ckpt_steps "$RUN" | tr '\n' ' ')"
verify_all "$RUN"

check "truncated newest checkpoint (step 6 cut to half its size)"
F6=$(ckpt_file "$RUN" 6)
truncate -s $(( $(stat -c %s "$F6") / 2 )) "$F6"
verify_fails "$F6" "$F6"
rc=0; train "$T/s2.log" "$RUN" "${COMMON[@]}" --stop.max_steps_this_run 4 || rc=$?
expect_rc "segment 2 (after the truncation)" $rc 3 "$T/s2.log"
damaged_newest "$T/s2.log" "$F6" 4 "$F6"
[[ $(stopped_step "$T/s2.log") == 8 ]] || fail "segment 2 stopped at $(stopped_step "$T/s2.log"), expected 8" "$T/s2.log"
verify_all "$RUN"  # step 6 was written again, whole

check "bit flip in the newest checkpoint's tensor data (step 8)"
F8=$(ckpt_file "$RUN" 8)
name=$($PY "$HERE/ckpt_tool.py" flip-bit "$F8") || fail "could not flip a bit in $F8"
echo "  flipped one bit of $name"
verify_fails "$F8" "checksum mismatch"
grep -q "$name" <<< "$VERIFY_OUT" || fail "sdn ckpt verify does not name the damaged dataset $name"
rc=0; train "$T/s3.log" "$RUN" "${COMMON[@]}" || rc=$?
expect_rc "last segment (after the bit flip)" $rc 0 "$T/s3.log"
damaged_newest "$T/s3.log" "$F8" 6 "checksum mismatch"
verify_all "$RUN"

check "final weights and metrics equal the uninterrupted run's"
GOT=$(digest "$(ckpt_file "$RUN" $STEPS)")
[[ $GOT == "$REF" ]] || fail "digest $GOT after the fallbacks, $REF uninterrupted"
expect_same_metrics "$T/ref" "$RUN"
pass "damaged checkpoints are detected and skipped; the run completes as if undamaged"

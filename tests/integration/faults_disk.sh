#!/bin/bash
# Issue 4 §5, a save that cannot be written. Mode `full`: the run directory is a tmpfs mounted for the test,
# sized so the first checkpoint fits and the next one does not. Mode `unwritable`: the checkpoint directory is
# made immutable (chattr +i; root ignores permission bits) right after the first checkpoint. Either way the
# trainer must fail with a clear error naming the path and an exit code other than 0 and 3 (never "resumable"),
# leave the previous checkpoint intact and verifying, and a later start (space or permission restored) must
# resume from it and complete. Skips (77) where mounting a tmpfs or chattr is not permitted.
source "$(dirname "$0")/lib.sh"
MODE=${1:?usage: faults_disk.sh full|unwritable}
STEPS=8
COMMON=(--train.iterations_per_epoch $STEPS --ckpt.every_steps 2 --ckpt.keep_last 3)

case $MODE in
  full)
    mkdir -p "$T/mnt"
    mount -t tmpfs -o size=16m tmpfs "$T/mnt" 2> "$T/mount.err" || skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
    on_exit "umount '$T/mnt'"
    ;;
  unwritable)
    mkdir -p "$T/probe"
    chattr +i "$T/probe" 2> "$T/chattr.err" || skip "chattr +i is not supported here: $(cat "$T/chattr.err")"
    chattr -i "$T/probe"
    ;;
  *) fail "unknown mode '$MODE' (full|unwritable)" ;;
esac
make_data

# failed_save LOG RC: the start that wrote LOG failed on a save with exit code RC; the previous checkpoint
# (PREV) is intact. Sets FAILED_STEP to the step whose save failed.
failed_save() {
  local log=$1 rc=$2
  [[ $rc != 0 && $rc != 3 && $rc -lt 128 ]] || fail "exit code $rc after a failed save (must be a failure: not 0, 3 or a signal)" "$log"
  echo "  exit code $rc; error:"
  grep -E "\] \[(error|critical)\]|^error|hint" "$log" | sed 's/^/    /' | cut -c1-300 | head -n 6
  PREV=$(ckpt_steps "$RUN" | tail -n 1)
  [[ -n $PREV ]] || fail "no checkpoint survived" "$log"
  FAILED_STEP=$((PREV + 2))
  local want
  want=$(basename "$(ckpt_file "$RUN" $FAILED_STEP)")
  grep -E "\] \[(error|critical)\]|^error" "$log" | grep -q "$RUN/ckpt/$want" ||
    fail "the error does not name the checkpoint path $RUN/ckpt/$want" "$log"
  grep -q "training .* at step" "$log" && fail "the trainer reported a normal end after a failed save" "$log"
  check "the previous checkpoint (step $PREV) is intact"
  verify_all "$RUN"
  grep -qx "$(basename "$(ckpt_file "$RUN" "$PREV")")" "$RUN/ckpt/latest" || fail "latest does not name step $PREV: $(cat "$RUN/ckpt/latest")"
  if compgen -G "$RUN/ckpt/*.tmp.*" > /dev/null; then fail "the failed save left a temporary: $(ls "$RUN/ckpt")"; fi
}

if [[ $MODE == full ]]; then
  note "probe: the size of one checkpoint"
  rc=0; train "$T/probe.log" "$T/probe" "${COMMON[@]}" --stop.max_steps_this_run 1 || rc=$?
  expect_rc "probe run" $rc 3 "$T/probe.log"
  C=$(stat -c %s "$(ckpt_file "$T/probe" 1)")
  SIZE=$(( (C + C / 2) / 1048576 + 1 ))
  mount -o remount,size=${SIZE}m "$T/mnt" || fail "cannot resize the tmpfs to ${SIZE} MiB"
  echo "  checkpoint: $((C / 1048576)) MiB; tmpfs: $SIZE MiB (one checkpoint fits, two do not)"
  RUN=$T/mnt/run
  note "training on the small tmpfs"
  rc=0; train "$T/full.log" "$RUN" "${COMMON[@]}" || rc=$?
  check "the save on the full disk failed cleanly"
  failed_save "$T/full.log" $rc
  grep -qi "no space\|ENOSPC\|disk.*full" "$T/full.log" || fail "the error does not say the disk is full" "$T/full.log"
  mount -o remount,size=1g "$T/mnt" || fail "cannot grow the tmpfs again"
  note "space restored"
else
  RUN=$T/run
  note "training; the checkpoint dir becomes immutable right after the first checkpoint"
  start_train "$T/ro.log" "$RUN" "${COMMON[@]}"
  wait_until 300 "grep -qx step-00000002.h5 '$RUN/ckpt/latest' 2>/dev/null || ! kill -0 $TRAIN_PID 2>/dev/null" ||
    fail "no first checkpoint" "$T/ro.log"
  chattr +i "$RUN/ckpt" || fail "chattr +i $RUN/ckpt failed"
  on_exit "chattr -i '$RUN/ckpt'"
  wait_rc "$TRAIN_PID"
  check "the save into the immutable directory failed cleanly"
  failed_save "$T/ro.log" $RC
  chattr -i "$RUN/ckpt"
  note "permission restored"
fi

rc=0; train "$T/resume.log" "$RUN" "${COMMON[@]}" || rc=$?
expect_rc "start after the fault" $rc 0 "$T/resume.log"
expect_resumed "$T/resume.log" "$PREV"
verify_all "$RUN"
pass "failed save at step $FAILED_STEP: exit code was a failure, step $PREV survived and the next start resumed from it"

#!/bin/bash
# Issue 4 §5, one consistent stop: SIGUSR2 or SIGTERM sent to ONE rank of a 2-rank run, at random moments over
# 6 trials: during start-up (checkpoint read, loader start, first batch), during a step (mostly forward and
# backward), during a save, and a storm (the signal every 5 ms until the rank exits: it lands everywhere,
# including the teardown after the stop checkpoint). Every time both ranks must exit 3 together, the journal's train_end event must
# name the step of exactly one new checkpoint (which verifies), the next start must resume from it, and the run
# must finally end with the uninterrupted 2-rank run's weights and metrics.
source "$(dirname "$0")/lib.sh"
STEPS=16
EVERY=2
COMMON=(--train.iterations_per_epoch $STEPS --train.global_batch 4 --train.per_rank_batch 2 --ckpt.every_steps $EVERY
        --ckpt.keep_last 3)
make_data

note "uninterrupted 2-rank reference run ($STEPS steps)"
rc=0; train_mpi "$T/ref.log" "$T/ref" "${COMMON[@]}" || rc=$?
expect_rc "uninterrupted 2-rank run" $rc 0 "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
STEP_MS=$(step_ms "$T/ref.log")
echo "reference digest $REF, ${STEP_MS} ms per step"

RUN=$T/run
expected=none
n=0
journal_lines() { [[ -f $RUN/journal.jsonl ]] && wc -l < "$RUN/journal.jsonl" || echo 0; }

# trial MOMENT SIGNAL: one 2-rank start, SIGNAL to one random rank at MOMENT (startup|step|save|storm).
trial() {
  local moment=$1 sig=$2 rank=$((RANDOM % 2)) j0 pid delay="" what
  n=$((n + 1)); LOG=$T/trial$n.log
  j0=$(journal_lines)
  start_train_mpi "$LOG" "$RUN" "${COMMON[@]}"
  pid=$(rank_pid "$LOG" $rank)
  case $moment in
    startup)  # both ranks are past MPI start-up once rank 0 logs this; the resume and the first batch follow
      wait_until 300 "grep -q '\\] training semantic' '$LOG' || ! kill -0 $TRAIN_PID 2>/dev/null" || fail "trial $n: no start" "$LOG"
      delay=$(rand_ms 0 "$STEP_MS")
      what="${delay}s after start-up" ;;
    step)
      local j=$((RANDOM % 2))
      wait_until 300 "(( \$(steps_logged '$LOG') >= $j )) && grep -q '\\] training semantic' '$LOG' || ! kill -0 $TRAIN_PID 2>/dev/null" ||
        fail "trial $n: no step" "$LOG"
      delay=$(rand_ms 0 "$STEP_MS")
      what="${delay}s after step $j of this start" ;;
    save)  # while rank 0 writes the temporary (rank 1 waits for it at the barrier)
      local end=$((SECONDS + 300))
      until compgen -G "$RUN/ckpt/*.h5.tmp.*" > /dev/null; do
        kill -0 "$TRAIN_PID" 2>/dev/null && ((SECONDS < end)) || fail "trial $n: never saw a checkpoint being written" "$LOG"
        sleep 0.01
      done
      delay=0
      what="during the save of $(basename "$(compgen -G "$RUN/ckpt/*.h5.tmp.*" | head -n 1)")" ;;
    storm)
      wait_until 300 "grep -q '\\] training semantic' '$LOG' || ! kill -0 $TRAIN_PID 2>/dev/null" || fail "trial $n: no start" "$LOG"
      delay=0
      what="every 5 ms from start-up until it exited" ;;
  esac
  sleep "$delay"
  kill -s "$sig" "$pid" 2>/dev/null || fail "trial $n: rank $rank (pid $pid) was gone before the signal" "$LOG"
  if [[ $moment == storm ]]; then
    local storms=1
    while kill -s "$sig" "$pid" 2>/dev/null; do storms=$((storms + 1)); sleep 0.005; done
    what="$storms times, $what"
  fi
  wait_rc "$TRAIN_PID"
  local r0 r1
  r0=$(cat "$LOG.d/rc.0" 2>/dev/null || echo none)
  r1=$(cat "$LOG.d/rc.1" 2>/dev/null || echo none)
  [[ $RC == 3 && $r0 == 3 && $r1 == 3 ]] ||
    fail "trial $n (SIG$sig to rank $rank $what): exit codes mpirun $RC, rank 0 $r0, rank 1 $r1; expected 3 everywhere" "$LOG"
  expect_resumed "$LOG" "$expected"
  # This start's journal lines: one train_end (reason signal), and its step has exactly one checkpoint event.
  local mine s
  mine=$(tail -n +$((j0 + 1)) "$RUN/journal.jsonl")
  [[ $(grep -c '"event":"train_end"' <<< "$mine") == 1 ]] || fail "trial $n: not exactly one train_end event: $mine"
  grep '"event":"train_end"' <<< "$mine" | grep -q '"reason":"signal"' || fail "trial $n: train_end reason is not signal: $mine"
  s=$(grep '"event":"train_end"' <<< "$mine" | sed -n 's/.*"step":\([0-9]*\).*/\1/p')
  [[ $(grep '"event":"checkpoint"' <<< "$mine" | grep -c "\"step\":$s,") == 1 ]] ||
    fail "trial $n: train_end step $s has not exactly one checkpoint event: $mine"
  [[ $(grep '"event":"checkpoint"' <<< "$mine" | tail -n 1 | sed -n 's/.*"step":\([0-9]*\).*/\1/p') == "$s" ]] ||
    fail "trial $n: the last checkpoint of this start is not the stop's (step $s)"
  [[ $(stopped_step "$LOG") == "$s" ]] || fail "trial $n: the log says it stopped at $(stopped_step "$LOG"), the journal $s" "$LOG"
  local f
  f=$(ckpt_file "$RUN" "$s")
  "$SDN" ckpt verify "$f" > /dev/null || fail "trial $n: the stop's checkpoint $f does not verify"
  "$SDN" ckpt inspect "$f" | grep -Eq "step[^0-9]*\\b$s\\b" || fail "trial $n: $f does not hold step $s: $("$SDN" ckpt inspect "$f")"
  verify_all "$RUN"
  pass "trial $n: SIG$sig to rank $rank $what -> both ranks exit 3 at step $s (resumed at $expected)"
  expected=$s
}

note "6 trials"
trial startup USR2
trial step TERM
trial save USR2
trial step USR2
trial startup TERM
trial storm USR2

note "final start, no signal"
rc=0; train_mpi "$T/final.log" "$RUN" "${COMMON[@]}" || rc=$?
expect_rc "final 2-rank start" $rc 0 "$T/final.log"
expect_resumed "$T/final.log" "$expected"
check "final weights and metrics equal the uninterrupted 2-rank run's"
GOT=$(digest "$(ckpt_file "$RUN" $STEPS)")
[[ $GOT == "$REF" ]] || fail "digest $GOT after $n signalled stops, $REF uninterrupted"
expect_same_metrics "$T/ref" "$RUN"
pass "$n signals to one rank: one consistent stop each time, and the same result"

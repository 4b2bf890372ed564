#!/bin/bash
# Issue 11 item 2, the collective watchdog with the real trainer: rank 1 of a 2-rank run is stopped (SIGSTOP:
# it hangs without dying, so the launcher sees nothing) once training runs. Rank 0 must end the job within
# dist.timeout_seconds plus a bound, with exit code 4 (not 3: never requeued), a message naming the
# collective, and the reason in the journal (train_end reason error, with the message).
source "$(dirname "$0")/lib.sh"
make_data
TIMEOUT=5
start_train_mpi "$T/hang.log" "$T/run" --train.per_rank_batch 1 --train.iterations_per_epoch 200 --dist.timeout_seconds $TIMEOUT
wait_until 300 "(( \$(steps_logged $T/hang.log) >= 1 )) || ! kill -0 $TRAIN_PID 2>/dev/null" ||
  fail "training never started" "$T/hang.log"
pid1=$(rank_pid "$T/hang.log" 1)
kill -STOP "$pid1"
on_exit "kill -CONT $pid1 2>/dev/null; kill -9 $pid1 2>/dev/null"
t0=$SECONDS
wait_until 120 "! kill -0 $TRAIN_PID 2>/dev/null" || fail "the job still runs 120 s after rank 1 hung" "$T/hang.log"
waited=$((SECONDS - t0))
wait_rc "$TRAIN_PID"
expect_rc "hung rank 1" "$RC" 4 "$T/hang.log"
(( waited <= TIMEOUT + 60 )) || fail "the job took $waited s to end (timeout $TIMEOUT s)" "$T/hang.log"
grep -q "collective timeout: '.*' has not completed after .* (dist.timeout_seconds = $TIMEOUT) on rank 0 of 2" "$T/hang.log" ||
  fail "no watchdog message naming the collective and rank 0" "$T/hang.log"
[[ $(journal_last "$T/run" train_end reason) == error ]] || fail "journal: train_end reason is not error" "$T/run/journal.jsonl"
grep '"event":"train_end"' "$T/run/journal.jsonl" | tail -n 1 | grep -q "collective timeout" ||
  fail "journal: train_end has no watchdog message" "$T/run/journal.jsonl"
pass "rank 1 hung: the job ended after $waited s with exit 4, the message and the journal entry"

#!/bin/bash
# Issue 11 item 7, node-local staging with the real trainer on 2 ranks of one node: `--data.stage_to` with a
# variable copies the shards once (local rank 0), journals "stage_data", trains from the copy to the same
# weights as from the original, keeps the variable unexpanded in run.ini; a corrupt source shard fails every
# rank with the file named (no hang, not exit 3).
source "$(dirname "$0")/lib.sh"
COMMON=(--train.per_rank_batch 1 --train.iterations_per_epoch 3)
make_data
export SDN_STAGE_TEST_JOB=42
STAGE="$T/node-local/job_\$SDN_STAGE_TEST_JOB"

note "reference: 2 ranks read the shards directly"
train_mpi "$T/ref.log" "$T/ref" "${COMMON[@]}" || fail "reference run failed (exit $?)" "$T/ref.log"

note "staged: 2 ranks read the node-local copy"
train_mpi "$T/staged.log" "$T/staged" "${COMMON[@]}" --data.stage_to "$STAGE" || fail "staged run failed (exit $?)" "$T/staged.log"
grep -q "staged the shards to $T/node-local/job_42 on 1 node(s)" "$T/staged.log" || fail "no staging line in the log" "$T/staged.log"
[[ -f $T/node-local/job_42/train-index.json ]] || fail "no staged index in $T/node-local/job_42"
n_shards=$(ls "$SHARDS"/train-*-of-*.h5 | wc -l)
[[ $(ls "$T/node-local/job_42"/train-*-of-*.h5 | wc -l) == "$n_shards" ]] || fail "not every shard was staged"
[[ $(journal_last "$T/staged" stage_data nodes) == 1 ]] || fail "stage_data event: nodes != 1" "$T/staged/journal.jsonl"
[[ $(journal_last "$T/staged" stage_data files_copied) == "$n_shards" ]] ||
  fail "stage_data event: one copy per node expected ($n_shards files)" "$T/staged/journal.jsonl"
(( $(journal_last "$T/staged" stage_data bytes) > 0 )) || fail "stage_data event without bytes" "$T/staged/journal.jsonl"
grep -q 'stage_to = .*job_\$SDN_STAGE_TEST_JOB' "$T/staged/run.ini" || fail "run.ini lost the variable" "$T/staged/run.ini"
[[ $(digest "$(ckpt_file "$T/ref" 3)") == $(digest "$(ckpt_file "$T/staged" 3)") ]] ||
  fail "training from the staged copy ended with other weights than from the original"
pass "staged once on the node, journaled, same weights as from the original"

note "a corrupt source shard: every rank fails with the file named"
cp -r "$SHARDS" "$T/bad"
first=$(ls "$T/bad"/train-*-of-*.h5 | head -n 1)
printf 'Z' | dd of="$first" bs=1 seek=2000 conv=notrunc status=none
rc=0
SHARDS=$T/bad  # train_args passes it as --data.shards
train_mpi "$T/bad.log" "$T/badrun" "${COMMON[@]}" --data.stage_to "$T/node-local/bad" || rc=$?
[[ $rc != 0 && $rc != 3 ]] || fail "a corrupt shard gave exit code $rc" "$T/bad.log"
grep -q "shard $first does not match its index" "$T/bad.log" || fail "the error does not name the shard" "$T/bad.log"
pass "corrupt shard: exit $rc, named in the error"

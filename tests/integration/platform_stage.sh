#!/bin/bash
# Issue 9 "done when": the platform test stage (tests/integration/platform_stage.cpp: object items, two phases
# per step, a schedule point at step 4 of 8, a loss term only rank 1 reports, its own [platform] section) trains
# on 2 ranks and
#  - resumes bit-exactly across 3 interruptions, one of them exactly at the schedule point (final checkpoint
#    digest and metrics.tsv equal to the uninterrupted run's);
#  - resumes elastically on 1 rank at the point (same first-step loss within float tolerance);
#  - refuses a resume whose [platform] key changed, naming it;
#  - logs every declared term and each phase's learning rate, the rank-1-only term averaged as 0 elsewhere.
source "$(dirname "$0")/lib.sh"
: "${SDN_PLATFORM:?SDN_PLATFORM must name the sdn-platform-test binary}"
SDN=$SDN_PLATFORM
STEPS=8
POINT=4
# 1 rank x 4 vs 2 ranks x 2 over the same 4 items: per-rank MSE means averaged vs one mean, float32 order only.
TOL=1e-5

note "making a synthetic dataset with cars and vans in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 6 --width 160 --height 48 \
  --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
"$SDN" pack --src "$T/tree" --out "$SHARDS" --split train --log-level warn > "$T/pack.log" 2>&1 ||
  fail "sdn pack failed" "$T/pack.log"
cat > "$CONFIG" <<'INI'
stage = platform-test
[platform]
lr = 0.05
trunk_lr_scale = 0.1
min_side = 4
[data]
threads = 1
[train]
epochs = 1
iterations_per_epoch = 8
global_batch = 4
per_rank_batch = 2
seed = 7
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
keep_last = 10
INI

note "uninterrupted 2-rank reference ($STEPS steps, schedule point at $POINT)"
rc=0; train_mpi "$T/ref.log" "$T/ref" || rc=$?
expect_rc "reference" $rc 0 "$T/ref.log"
grep -q "schedule point at step $POINT" "$T/ref.log" || fail "the reference never entered the schedule point" "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")

check "metrics.tsv: every term, every phase's learning rate; A/rank1 averaged over 2 ranks is 0.5"
for key in A/size= A/rank1=0.5 B/class= lr/A= lr/B=; do
  n=$(grep -c "	$key" "$T/ref/logs/metrics.tsv" || true)
  [[ $n == "$STEPS" ]] || fail "metrics.tsv has '$key' on $n of $STEPS lines" "$T/ref/logs/metrics.tsv"
done
grep -q '"terms":{' "$T/ref/journal.jsonl" || fail "the journal's progress entries carry no terms"

note "2-rank run in 3 segments: steps 0->3, 3->$POINT (stops at the schedule point), $POINT->$STEPS"
for limit in 3 1 0; do
  rc=0; train_mpi "$T/seg$limit.log" "$T/seg" --stop.max_steps_this_run $limit || rc=$?
  expect_rc "segment with step limit $limit" $rc "$([[ $limit == 0 ]] && echo 0 || echo 3)" "$T/seg$limit.log"
  [[ $limit == 1 ]] && cp -a "$T/seg" "$T/at_point"  # stopped exactly at the schedule point
done
expect_resumed "$T/seg1.log" 3
expect_resumed "$T/seg0.log" $POINT
[[ $(digest "$(ckpt_file "$T/seg" $STEPS)") == "$REF" ]] || fail "the 3-segment run's final weights differ from the reference"
expect_same_metrics "$T/ref" "$T/seg"
pass "bit-exact resume across the schedule point"

note "a changed [platform] key refuses the resume"
cp -a "$T/at_point" "$T/changed"
rc=0; train "$T/changed.log" "$T/changed" --platform.trunk_lr_scale 0.2 --train.per_rank_batch 4 || rc=$?
expect_rc "resume with a changed platform.trunk_lr_scale" $rc 2 "$T/changed.log"
grep -q "platform.trunk_lr_scale" "$T/changed.log" || fail "the refusal does not name platform.trunk_lr_scale" "$T/changed.log"
pass "changed stage key refused and named"

note "elastic: the step-$POINT checkpoint of 2 ranks resumed on 1 rank x 4"
rc=0; train "$T/el.log" "$T/changed" --train.per_rank_batch 4 || rc=$?
expect_rc "1-rank resume" $rc 0 "$T/el.log"
expect_resumed "$T/el.log" $POINT
grep -q "written by 2 rank(s), now 1" "$T/el.log" || fail "the resume did not report the world-size change" "$T/el.log"
# term RUN STEP NAME: the value of NAME at STEP in RUN/logs/metrics.tsv.
term() { awk -F'\t' -v s="$2" -v k="$3=" '$1 == s { for (i = 2; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' "$1/logs/metrics.tsv"; }
a=$(term "$T/ref" $((POINT + 1)) A/size); b=$(term "$T/changed" $((POINT + 1)) A/size)
awk -v a="$a" -v b="$b" -v tol=$TOL 'BEGIN { d = (a - b) / a; if (d < 0) d = -d; printf "A/size at step %d: %s vs %s (rel.diff %.2e)\n", '$((POINT + 1))', a, b, d; exit !(d <= tol) }' ||
  fail "the 1-rank resume computed another loss at step $((POINT + 1))"
[[ $(term "$T/changed" $((POINT + 1)) A/rank1) == 0 ]] || fail "A/rank1 must be 0 on one rank (no rank reported it)"
pass "elastic resume keeps the items and the loss"

#!/bin/bash
# Issue 12 item 7: configs/maskrcnn-demo.ini learns. On synthetic frames with big vehicles in every traffic slot
# (`sdn synth --vehicle-scale 2 --vehicle-presence 1`; 4 of them), 24 steps of the demo recipe (heads at 2e-2,
# 2 ranks x 1 image) raise box AP50 and AP@[.5:.95] on the training frames above the AP of the same model at
# step 0: a run of one step at learning rate 0 (SGD then leaves every weight as initialised), evaluated the same
# way. Also: the loss falls, and a restart reads the vehicle frame list from the run's cache, not the shards.
source "$(dirname "$0")/lib.sh"
DEMO=$HERE/../../configs/maskrcnn-demo.ini
[[ -f $DEMO ]] || fail "no $DEMO"

note "4 synthetic 128x64 frames with big cars and vans in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 4 --width 128 --height 64 \
  --vehicle-scale 2 --vehicle-presence 1 --threads 1 --log-level warn > "$T/synth.log" 2>&1 ||
  fail "sdn synth failed" "$T/synth.log"
"$SDN" pack --src "$T/tree" --out "$SHARDS" --split train --log-level warn > "$T/pack.log" 2>&1 ||
  fail "sdn pack failed" "$T/pack.log"

# The demo config as it is, with the step count and batch of this test.
demo_train() {
  local log=$1 run=$2; shift 2
  "${MPIRUN[@]}" "$SDN" train --config "$DEMO" --run-dir "$run" --data.shards "$SHARDS" --train.global_batch 2 \
    --train.per_rank_batch 1 --train.log_every 5 --ckpt.every_steps 0 "$@" > "$log" 2>&1
}
# ap RUN KEY: the metric KEY of RUN's eval on the training frames.
ap() { $PY -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1/eval/result.json" "$2"; }
demo_eval() {
  local run=$1
  "$SDN" eval --run-dir "$run" --split train --threads 2 > "$run.eval.log" 2>&1 || fail "eval of $run failed" "$run.eval.log"
  cp "$(ls -t "$run"/eval/train-step-*.json | head -1)" "$run/eval/result.json"
  grep -E '^(box|mask) ' "$run.eval.log"
}

note "step 0: the untrained model (1 step at learning rate 0)"
rc=0; demo_train "$T/init.log" "$T/init" --maskrcnn.part_lr 0 --train.epochs 1 --train.iterations_per_epoch 1 || rc=$?
expect_rc "the learning-rate-0 step" $rc 0 "$T/init.log"
demo_eval "$T/init"

note "the demo recipe, 24 steps, stopped after 12 and resumed"
rc=0; demo_train "$T/a.log" "$T/run" --train.epochs 6 --train.iterations_per_epoch 4 --stop.max_steps_this_run 12 || rc=$?
expect_rc "the first 12 steps" $rc 3 "$T/a.log"
grep -q "hold a vehicle (read from the shards)" "$T/a.log" || fail "the first start did not read the frame list" "$T/a.log"
rc=0; demo_train "$T/b.log" "$T/run" --train.epochs 6 --train.iterations_per_epoch 4 || rc=$?
expect_rc "steps 12 to 24" $rc 0 "$T/b.log"
expect_resumed "$T/b.log" 12
grep -q "hold a vehicle (from the cache " "$T/b.log" || fail "the restart re-read the shards instead of its cache" "$T/b.log"
pass "a restart takes the vehicle frame list from RUN/cache"
awk -F'\t' '{ for (i = 2; i <= NF; i++) if ($i ~ /^loss=/) v[NR] = substr($i, 6) + 0 }
  END { a = (v[1] + v[2] + v[3]) / 3; b = (v[NR] + v[NR-1] + v[NR-2]) / 3; printf "loss %.3f -> %.3f\n", a, b; exit !(b < a) }' \
  "$T/run/logs/metrics.tsv" || fail "the loss did not fall" "$T/run/logs/metrics.tsv"
demo_eval "$T/run"

check "box AP after training > box AP of the untrained model"
for key in box_AP50 box_AP; do
  before=$(ap "$T/init" $key) after=$(ap "$T/run" $key)
  echo "$key: $before at step 0, $after after 24 steps"
  $PY -c "import sys; sys.exit(not float(sys.argv[2]) > float(sys.argv[1]))" "$before" "$after" ||
    fail "$key did not rise ($before -> $after)" "$T/run.eval.log"
done
# Masks learn later: 24 steps of 2 images leave mask AP near 0 (the full demo, 40 steps of 4 images, reaches
# ~38 % mask AP50; docs/fidelity.md). Reported, not checked, to keep this test within ~3 minutes.
echo "mask_AP50: $(ap "$T/init" mask_AP50) at step 0, $(ap "$T/run" mask_AP50) after 24 steps (not checked)"
pass "the demo's box AP rises above the untrained model's"

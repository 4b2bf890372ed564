#!/bin/bash
# Issue 12: the Mask R-CNN stage (src/train/stages/maskrcnn_*) on synthetic cars and vans, 2 ranks, a tiny
# ResNet-50 FPN on 128-px squares and the demo's three-part schedule (heads -> 4+ -> all, schedule points at
# steps 2 and 4 of 6):
#  - trains, logging the five losses and the total as declared terms, entering both schedule points;
#  - resumes bit-exactly when stopped exactly at the first point and again mid-part (final checkpoint digest
#    and metrics.tsv equal to the uninterrupted run's);
#  - eval prints box and mask AP, the same on 2 ranks and on 1 (records are gathered before AP is computed);
#  - predict writes per-frame detections (JSON, instance PNG, mask PNGs, visualisation).
source "$(dirname "$0")/lib.sh"
STEPS=6

note "making a synthetic dataset with cars and vans in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 6 --width 128 --height 48 \
  --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
"$SDN" pack --src "$T/tree" --out "$SHARDS" --split train --log-level warn > "$T/pack.log" 2>&1 ||
  fail "sdn pack failed" "$T/pack.log"
# The demo's model (configs/maskrcnn-demo.ini) with the recipe's parts heads -> 4+ -> all (the schedule without COCO, so
# the run crosses schedule points), fewer steps, smaller counts and one image per rank.
cat > "$CONFIG" <<'INI'
stage = maskrcnn
[maskrcnn]
image_size = 128
resnet = 50
anchor_scales = 8,16,32,64,128
rpn_train_anchors_per_image = 32
pre_nms_limit = 500
post_nms_rois_training = 50
post_nms_rois_inference = 20
train_rois_per_image = 12
max_gt_instances = 20
detection_max_instances = 10
detection_min_confidence = 0
bn_init = damped
layers = heads,4+,all
part_epochs = 40,70,100
part_lr = 1e-2,5e-3,2e-3
predict_min_mask_area = 4
[data]
threads = 1
eval_split = train
[train]
epochs = 1
iterations_per_epoch = 6
global_batch = 2
per_rank_batch = 1
seed = 11
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
keep_last = 10
INI

note "uninterrupted 2-rank reference ($STEPS steps, schedule points at 2 and 4)"
rc=0; train_mpi "$T/ref.log" "$T/ref" || rc=$?
expect_rc "reference" $rc 0 "$T/ref.log"
for p in 2 4; do
  grep -q "schedule point at step $p" "$T/ref.log" || fail "the reference never entered the schedule point at $p" "$T/ref.log"
done
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
check "metrics.tsv: the total and the five Mask R-CNN losses on every line"
for key in loss= rpn_class= rpn_bbox= mrcnn_class= mrcnn_bbox= mrcnn_mask= lr/model=; do
  n=$(grep -c "	$key" "$T/ref/logs/metrics.tsv" || true)
  [[ $n == "$STEPS" ]] || fail "metrics.tsv has '$key' on $n of $STEPS lines" "$T/ref/logs/metrics.tsv"
done
awk -F'\t' '{ for (i = 2; i <= NF; i++) if ($i ~ /^loss=/) { if (substr($i, 6) + 0 <= 0) exit 1 } }' \
  "$T/ref/logs/metrics.tsv" || fail "a step's loss is not a positive number" "$T/ref/logs/metrics.tsv"

note "2-rank run in 3 segments: steps 0->2 (stops at the schedule point), 2->5, 5->$STEPS"
for limit in 2 3 0; do
  rc=0; train_mpi "$T/seg$limit.log" "$T/seg" --stop.max_steps_this_run $limit || rc=$?
  expect_rc "segment with step limit $limit" $rc "$([[ $limit == 0 ]] && echo 0 || echo 3)" "$T/seg$limit.log"
done
expect_resumed "$T/seg3.log" 2
expect_resumed "$T/seg0.log" 5
[[ $(digest "$(ckpt_file "$T/seg" $STEPS)") == "$REF" ]] || fail "the 3-segment run's final weights differ from the reference"
expect_same_metrics "$T/ref" "$T/seg"
pass "bit-exact resume at and across schedule points"

note "eval on 2 ranks and on 1"
rc=0; "${MPIRUN[@]}" "$SDN" eval --run-dir "$T/ref" --split train > "$T/eval2.log" 2>&1 || rc=$?
expect_rc "2-rank eval" $rc 0 "$T/eval2.log"
rc=0; "$SDN" eval --run-dir "$T/ref" --split train > "$T/eval1.log" 2>&1 || rc=$?
expect_rc "1-rank eval" $rc 0 "$T/eval1.log"
for f in "$T/eval1.log" "$T/eval2.log"; do
  grep -q '^box  mean ' "$f" && grep -q '^mask mean ' "$f" || fail "eval printed no box/mask AP" "$f"
done
table() { grep -E '^(box|mask) ' "$1"; }
[[ $(table "$T/eval1.log") == "$(table "$T/eval2.log")" ]] || fail "AP differs between 1 and 2 ranks" "$T/eval1.log" "$T/eval2.log"
table "$T/eval2.log"
pass "eval reports box and mask AP, independent of the world size"

note "predict on 2 ranks"
rc=0; "${MPIRUN[@]}" "$SDN" predict --run-dir "$T/ref" --split train --samples 3 --out "$T/pred" > "$T/pred.log" 2>&1 || rc=$?
expect_rc "predict" $rc 0 "$T/pred.log"
for k in 00000 00001 00002; do
  for f in "$k.json" "${k}_instances.png" "${k}_vis.png"; do
    [[ -s $T/pred/0001/clone/$f ]] || fail "predict did not write 0001/clone/$f" "$T/pred.log"
  done
done
$PY - "$T/pred/0001/clone" <<'PYEOF' || fail "the detection files are inconsistent"
import json, os, sys
d = sys.argv[1]
for k in ("00000", "00001", "00002"):
    doc = json.load(open(os.path.join(d, k + ".json")))
    assert doc["width"] == 128 and doc["height"] == 48, doc
    areas = [x["mask_area"] for x in doc["detections"]]
    assert areas == sorted(areas, reverse=True) and len(areas) <= 16, areas
    for x in doc["detections"]:
        assert x["class"] in ("car", "van") and 0 <= x["score"] <= 1, x
        assert os.path.getsize(os.path.join(d, x["mask"])) > 0, x
print("detection files consistent")
PYEOF
pass "predict writes the derenderer's detection files"

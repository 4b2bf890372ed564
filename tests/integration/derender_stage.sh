#!/bin/bash
# Issue 13 "done when" for the derenderer stage (tiny crops, a coarse mesh set, a 24 px render):
#  - pretrain trains on 2 ranks over Car/Van object items and resumes bit-exactly across an epoch boundary and
#    a StepLR decay (final checkpoint digest and metrics.tsv equal to the uninterrupted run's), so the
#    per-(epoch, item) ROI and colour jitter are part of the exact state;
#  - eval reports the geometric errors and the silhouette IoU, the same on 1 and 2 ranks;
#  - predict writes per frame the objects' 3D attributes (JSON), the instance, normal and uint16 depth maps;
#  - full starts from the pretrain checkpoint (model and Adam state), logs the reprojection terms and resumes
#    bit-exactly too (the REINFORCE mesh sample is seeded per object);
#  - a full run refuses a checkpoint that is not the derenderer's.
source "$(dirname "$0")/lib.sh"

note "making a synthetic dataset (train frames 350-355, test frames 356-359, 320x96) in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 10 --first-frame 350 \
  --width 320 --height 96 --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
for split in train test; do
  "$SDN" pack --src "$T/tree" --out "$SHARDS" --split $split --log-level warn > "$T/pack-$split.log" 2>&1 ||
    fail "sdn pack --split $split failed" "$T/pack-$split.log"
done
cat > "$CONFIG" <<'INI'
stage = derender
[derender]
mode = pretrain
crop_size = 32
mask_size = 16
render_size = 24
mesh_stations = 8
lr = 0.001
lr_decay_epochs = 1
lr_decay_rate = 0.5
[data]
threads = 1
[train]
epochs = 3
iterations_per_epoch = 0
global_batch = 4
per_rank_batch = 2
seed = 11
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
keep_last = 10
INI
ITEMS=$(awk 'NR > 1 && $1 < 356 && ($3 == "Car" || $3 == "Van") && ($10 - $8) * ($9 - $7) > 256 && $20 < 0.7 && $21 > 0.3' \
  "$T/tree/vkitti_1.3.1_motgt/0001_clone.txt" | wc -l)
STEPS=$((3 * (ITEMS / 4)))
((STEPS >= 6)) || fail "the synthetic train split has only $ITEMS trainable objects"

note "pretrain: uninterrupted 2-rank reference ($ITEMS items, $STEPS steps)"
rc=0; train_mpi "$T/ref.log" "$T/ref" || rc=$?
expect_rc "pretrain reference" $rc 0 "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
check "metrics.tsv: the four geometry terms and the decayed rate in the last epoch"
for key in loss= theta_delta_loss= translation2d_loss= scale_loss= depth_loss=; do
  n=$(grep -c "	$key" "$T/ref/logs/metrics.tsv" || true)
  [[ $n == "$STEPS" ]] || fail "metrics.tsv has '$key' on $n of $STEPS lines" "$T/ref/logs/metrics.tsv"
done
grep -q "	lr/model=0.0005" "$T/ref/logs/metrics.tsv" || fail "no step ran at the decayed rate 5e-4" "$T/ref/logs/metrics.tsv"

note "pretrain in 3 segments (stops inside epoch 0, inside epoch 1, then to the end)"
for limit in 2 3 0; do
  rc=0; train_mpi "$T/seg$limit.log" "$T/seg" --stop.max_steps_this_run $limit || rc=$?
  expect_rc "segment with step limit $limit" $rc "$([[ $limit == 0 ]] && echo 0 || echo 3)" "$T/seg$limit.log"
done
expect_resumed "$T/seg3.log" 2
expect_resumed "$T/seg0.log" 5
[[ $(digest "$(ckpt_file "$T/seg" $STEPS)") == "$REF" ]] || fail "the 3-segment pretrain run's final weights differ from the reference"
expect_same_metrics "$T/ref" "$T/seg"
pass "pretrain resumes bit-exactly"

note "eval on 2 ranks and on 1"
"${MPIRUN[@]}" "$SDN" eval --run-dir "$T/ref" --out "$T/eval2" > "$T/eval2.log" 2>&1 || fail "2-rank eval failed" "$T/eval2.log"
"$SDN" eval --run-dir "$T/ref" > "$T/eval1.log" 2>&1 || fail "1-rank eval failed" "$T/eval1.log"
for key in orientation_median_deg translation2d_error scale_rel_error depth_rel_error mask_iou objects; do
  a=$(awk -v k=$key '$1 == k { print $2 }' "$T/eval1.log"); b=$(awk -v k=$key '$1 == k { print $2 }' "$T/eval2.log")
  [[ -n $a && -n $b ]] || fail "eval does not report $key" "$T/eval1.log" "$T/eval2.log"
  awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a; exit !(d <= 1e-4 * (s + 1e-6)) }' ||
    fail "eval's $key is $a on 1 rank, $b on 2" "$T/eval1.log" "$T/eval2.log"
done
awk '$1 == "objects" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/eval1.log" || fail "eval saw no objects" "$T/eval1.log"
awk '$1 == "mask_iou" && $2 >= 0 && $2 <= 1 { ok = 1 } END { exit !ok }' "$T/eval1.log" || fail "mask_iou is not in [0, 1]" "$T/eval1.log"
pass "eval: geometric errors and silhouette IoU, rank-independent"

note "predict (2 ranks): JSON, instance, normal and depth maps per test frame"
"${MPIRUN[@]}" "$SDN" predict --run-dir "$T/ref" --out "$T/pred" > "$T/pred.log" 2>&1 || fail "predict failed" "$T/pred.log"
for f in 356 357 358 359; do
  for s in .json .png -normal.png -depth.png; do
    [[ -s $T/pred/0001/clone/00$f$s ]] || fail "predict wrote no 00$f$s" "$T/pred.log"
  done
done
$PY - "$T/pred/0001/clone" "$T/tree/vkitti_1.3.1_motgt/0001_clone.txt" <<'PY' || fail "the predictions are inconsistent" "$T/pred.log"
import json, os, sys
import numpy as np
from PIL import Image
d, motgt = sys.argv[1], sys.argv[2]
objects = 0
for f in range(356, 360):
    j = json.load(open(os.path.join(d, '%05d.json' % f)))
    inst = np.asarray(Image.open(os.path.join(d, '%05d.png' % f)))
    depth = np.asarray(Image.open(os.path.join(d, '%05d-depth.png' % f)))
    normal = np.asarray(Image.open(os.path.join(d, '%05d-normal.png' % f)))
    assert inst.ndim == 2 and normal.shape == inst.shape + (3,) and depth.shape == inst.shape, 'map shapes'
    for key, o in j.items():
        objects += 1
        assert o['class_id'] in (2, 12), o['class_id']
        for k in ('depth', 'alpha', 'theta', 'translation', 'scale', 'rotation', 'mesh', 'ffd_coeffs'):
            assert k in o, k
        assert len(o['translation']) == 3 and len(o['scale']) == 3 and len(o['ffd_coeffs']) == 192
        assert o['depth'] > 0 and abs(o['alpha']) <= np.pi + 1e-6
        painted = inst == int(key)
        assert painted.any(), 'object %s of frame %d is not in the instance map' % (key, f)
        assert (depth[painted] < 65535).any(), 'no depth under object %s' % key
print('predicted objects:', objects)
assert objects > 0
PY
pass "predict writes the textural branch's inputs"

note "full: from the pretrain checkpoint, 2 ranks, uninterrupted and in 2 segments"
PRE=$(ckpt_file "$T/ref" $STEPS)
FULL=(--derender.mode full --derender.pretrained "$PRE" --derender.lr 0.0001 --train.epochs 2)
FSTEPS=$((2 * (ITEMS / 4)))
rc=0; train_mpi "$T/full.log" "$T/full" "${FULL[@]}" || rc=$?
expect_rc "full reference" $rc 0 "$T/full.log"
grep -q "full mode starts from .*step-$(printf %08d $STEPS).h5 (step $STEPS): model and optimiser state" "$T/full.log" ||
  fail "the full run did not start from the pretrain checkpoint" "$T/full.log"
for key in class_reward= mask_loss= ffd_coeff_reg=; do
  n=$(grep -c "	$key" "$T/full/logs/metrics.tsv" || true)
  [[ $n == "$FSTEPS" ]] || fail "metrics.tsv has '$key' on $n of $FSTEPS lines" "$T/full/logs/metrics.tsv"
done
for limit in 2 0; do
  rc=0; train_mpi "$T/fseg$limit.log" "$T/fseg" "${FULL[@]}" --stop.max_steps_this_run $limit || rc=$?
  expect_rc "full segment with step limit $limit" $rc "$([[ $limit == 0 ]] && echo 0 || echo 3)" "$T/fseg$limit.log"
done
expect_resumed "$T/fseg0.log" 2
[[ $(digest "$(ckpt_file "$T/fseg" $FSTEPS)") == "$(digest "$(ckpt_file "$T/full" $FSTEPS)")" ]] ||
  fail "the 2-segment full run's final weights differ from the uninterrupted one's"
expect_same_metrics "$T/full" "$T/fseg"
pass "full starts from the pretrain checkpoint and resumes bit-exactly"

note "full mode refuses a checkpoint of another stage"
rc=0; train "$T/bad.log" "$T/bad" "${FULL[@]}" --derender.pretrained "$T/ref/logs/metrics.tsv" || rc=$?
[[ $rc != 0 ]] || fail "a non-checkpoint as derender.pretrained was accepted" "$T/bad.log"
grep -q "derender.pretrained\|metrics.tsv" "$T/bad.log" || fail "the refusal does not name the file" "$T/bad.log"
pass "bad pretrained checkpoint refused"

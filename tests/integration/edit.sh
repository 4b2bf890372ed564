#!/bin/bash
# Issue 15 part 3, `sdn edit` end to end on synthetic frames (one process, tiny nets, a few steps each):
#  - a derender run (pretrain, configs/derender-demo.ini) predicts the test frames' objects and maps, a textural
#    run (configs/textural-demo.ini, ground-truth inputs, full 320x96 frames) learns to draw them;
#  - moving one object in 3D moves its pixels in the re-rendered instance map the expected way, and the edited
#    image and the before | after strip have the frame's size;
#  - an edit naming an object the frame does not have, and a run of the wrong stage, fail with exit 2 and say so;
#  - a benchmark file in 3D-SDN's format (an edit, a reconstruction, a frame nobody predicted) reports L1, PSNR
#    and SSIM, skips the uncovered entry with a note, and its reconstruction re-renders the predicted maps exactly;
#  - a textural run on predicted inputs (stand-in semantic maps, the derender run's maps and normals) edits too,
#    and a --semantic directory without the frame fails with exit 2 naming it.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)

note "synthetic frames (train 350-355, test 356-359, 320x96) in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 10 --first-frame 350 \
  --width 320 --height 96 --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
for split in train test; do
  "$SDN" pack --src "$T/tree" --out "$SHARDS" --split $split --log-level warn > "$T/pack-$split.log" 2>&1 ||
    fail "sdn pack --split $split failed" "$T/pack-$split.log"
done

note "derender run (pretrain, 3 epochs) and its predictions of the test frames"
"$SDN" train --config "$ROOT/configs/derender-demo.ini" --run-dir "$T/der" --data.shards "$SHARDS" \
  --train.epochs 3 --train.global_batch 4 --train.per_rank_batch 4 --derender.lr_decay_epochs 1 \
  --log-level warn > "$T/der.log" 2>&1 || fail "derender training failed" "$T/der.log"
"$SDN" predict --run-dir "$T/der" --log-level warn > "$T/derpred.log" 2>&1 || fail "derender predict failed" "$T/derpred.log"
GEO=$T/der/predict

note "textural run (ground-truth inputs, 320x96, 4 steps)"
"$SDN" train --config "$ROOT/configs/textural-demo.ini" --run-dir "$T/tex" --data.shards "$SHARDS" \
  --textural.load_width 0 --textural.crop_width 320 --textural.crop_height 96 --textural.niter 1 \
  --textural.niter_decay 1 --train.epochs 2 --train.iterations_per_epoch 2 --train.global_batch 1 \
  --train.per_rank_batch 1 --log-level warn > "$T/tex.log" 2>&1 || fail "textural training failed" "$T/tex.log"

# The test frame with the most pixels of one derendered object, that object, and a 3D move towards the image
# centre worth ~1/8 of the width (dx = du * z / f).
read -r FRAME OBJ DX DIR < <($PY - "$GEO/0001/clone" <<'PY'
import json, os, sys
import numpy as np
from PIL import Image
d = sys.argv[1]
best = None
for f in range(356, 360):
    j = json.load(open(os.path.join(d, '%05d.json' % f)))
    inst = np.asarray(Image.open(os.path.join(d, '%05d.png' % f)))
    for k, o in j.items():
        n = int((inst == int(k)).sum())
        if best is None or n > best[0]:
            best = (n, f, int(k), o, inst.shape)
n, f, k, o, (h, w) = best
assert n > 0, 'no derendered object is visible in any test frame'
fx = 725.0 * w / 1242.0
u = o['center2d'][1]
sign = -1 if u > w / 2 else 1
dx = sign * (w / 8.0) * (-o['translation'][2]) / fx
print(f, k, '%.4f' % dx, 'right' if sign > 0 else 'left')
PY
) || fail "no usable derendered object in the predictions" "$T/derpred.log"
note "frame $FRAME, object $OBJ: move ${DX} m ($DIR)"

check "sdn edit: a 3D move of object $OBJ"
"$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --frame "0001/clone/$FRAME" --edit "$OBJ:move=$DX,0,0" \
  --out "$T/edit" > "$T/edit.log" 2>&1 || fail "sdn edit failed" "$T/edit.log"
NAME=0001_clone_$(printf %05d "$FRAME")
$PY - "$T/edit" "$NAME" "$GEO/0001/clone" "$FRAME" "$OBJ" "$DIR" <<'PY' || fail "the edit did not move the object as asked" "$T/edit.log"
import json, os, sys
import numpy as np
from PIL import Image
out, name, geo, frame, obj, direction = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
before = np.asarray(Image.open(os.path.join(geo, '%05d.png' % frame)))
after = np.asarray(Image.open(os.path.join(out, 'geometric/0001/clone/%05d.png' % frame)))
h, w = before.shape
assert after.shape == (h, w), after.shape
for suffix in ('-normal.png', '-depth.png', '.json'):
    assert os.path.exists(os.path.join(out, 'geometric/0001/clone/%05d%s' % (frame, suffix))), suffix
img = Image.open(os.path.join(out, name + '.png'))
strip = Image.open(os.path.join(out, name + '_strip.png'))
assert img.size == (w, h), ('edited image', img.size, (w, h))
assert strip.size == (2 * w, h), ('strip', strip.size)
u0 = np.nonzero(before == obj)[1].mean()
cols = np.nonzero(after == obj)[1]
assert cols.size > 0, 'the moved object vanished from the instance map'
u1 = cols.mean()
print('object %d: centroid u %.1f -> %.1f (%s)' % (obj, u0, u1, direction))
assert (u1 - u0 > 2) if direction == 'right' else (u0 - u1 > 2), 'the centroid did not move %s' % direction
j = json.load(open(os.path.join(out, 'geometric/0001/clone/%05d.json' % frame)))
assert j[str(obj)]['edited'] is True
PY
grep -q "object $OBJ: move" "$T/edit.log" || fail "sdn edit does not report the applied edit" "$T/edit.log"
pass "the moved object's pixels moved $DIR; edited image and strip have the frame's size"

check "sdn edit --frame auto: rotate, scale and change the mesh of the largest object"
"$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --frame auto \
  --edit "largest:rotate=90deg:scale=1.2:mesh=5" --out "$T/edit2" > "$T/edit2.log" 2>&1 || fail "sdn edit failed" "$T/edit2.log"
$PY - "$GEO/0001/clone/$(printf %05d "$FRAME").json" "$T/edit2/geometric/0001/clone/$(printf %05d "$FRAME").json" "$OBJ" <<'PY' ||
import json, math, sys
a, b, k = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
o, e = a[k], b[k]
assert e['edited'] and e['mesh'] == 5 and all(c == 0 for c in e['ffd_coeffs']), 'mesh'
assert abs(e['theta'] - (o['theta'] - math.pi / 2)) < 1e-9, (o['theta'], e['theta'])
assert all(abs(x - 1.2 * y) < 1e-9 for x, y in zip(e['scale'], o['scale'])), 'scale'
assert abs(e['depth'] - o['depth']) < 1e-4 * o['depth'] and e['translation'] == o['translation'], 'it must stay in place'
assert all(not b[j]['edited'] for j in b if j != k), 'only the largest object is edited'
PY
  fail "the largest object was not rotated, scaled and given mesh 5" "$T/edit2.log"
grep -q -- "--frame auto: 0001/clone/$(printf %05d "$FRAME")" "$T/edit2.log" || fail "--frame auto did not pick frame $FRAME" "$T/edit2.log"
pass "--frame auto and largest pick the most visible object; rotate, scale and mesh edits land in its attributes"

check "bad input: a missing object, the wrong run stage, a frame not in the shards"
rc=0; "$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --frame "0001/clone/$FRAME" --edit "99:move=1,0,0" \
  --out "$T/bad" > "$T/bad.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "an edit of a missing object exited $rc, not 2" "$T/bad.log"
grep -q "object 99 is not a derendered object of this frame" "$T/bad.log" || fail "the error does not name object 99" "$T/bad.log"
rc=0; "$SDN" edit --geometric "$GEO" --textural-run "$T/der" --frame "0001/clone/$FRAME" --edit "$OBJ:rotate=30deg" \
  --out "$T/bad" > "$T/bad2.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "a derender run as --textural-run exited $rc, not 2" "$T/bad2.log"
grep -q "is a \`derender\` run, not a textural one" "$T/bad2.log" || fail "the error does not name the stage" "$T/bad2.log"
rc=0; "$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --frame "0001/clone/00999" --edit "1:delete" \
  --out "$T/bad" > "$T/bad4.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "an edit of a frame not in the shards exited $rc, not 2" "$T/bad4.log"
grep -q "frame 0001/clone/00999 is not in the shards" "$T/bad4.log" || fail "the error does not name the frame" "$T/bad4.log"
pass "bad input (missing object, wrong stage, missing frame) fails with exit 2 and a clear message"

check "sdn edit --benchmark in 3D-SDN's format"
$PY - "$GEO/0001/clone" "$FRAME" > "$T/bench.json" <<'PY'
import json, os, sys
d, frame = sys.argv[1], int(sys.argv[2])
o = next(iter(json.load(open(os.path.join(d, '%05d.json' % frame))).values()))
v, u = o['center2d']
other = 356 if frame != 356 else 357
edit = {'world': '0001', 'topic': 'clone', 'source': '%05d' % frame, 'target': '%05d' % other,
        'operations': [{'type': 'modify', 'from': {'u': '%.1f' % u, 'v': '%.1f' % v},
                        'to': {'u': '%.1f' % (u + 8), 'v': '%.1f' % v}, 'zoom': '1.1', 'ry': '0.2'}]}
recon = {'world': '0001', 'topic': 'clone', 'source': '%05d' % frame, 'target': '%05d' % frame, 'operations': []}
missing = {'world': '0001', 'topic': 'clone', 'source': '00999', 'target': '00998', 'operations': []}
json.dump([edit, recon, missing], sys.stdout, indent=2)
PY
"$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --benchmark "$T/bench.json" --out "$T/bench" \
  > "$T/bench.log" 2>&1 || fail "sdn edit --benchmark failed" "$T/bench.log"
grep -q "skipped: frame 0001/clone/00999 is not in the shards" "$T/bench.log" || fail "no note for the uncovered entry" "$T/bench.log"
$PY - "$T/bench" "$GEO/0001/clone" "$FRAME" <<'PY' || fail "the benchmark report is wrong" "$T/bench.log" "$T/bench/benchmark.txt"
import json, math, os, sys
import numpy as np
from PIL import Image
out, geo, frame = sys.argv[1], sys.argv[2], int(sys.argv[3])
j = json.load(open(os.path.join(out, 'benchmark.json')))
assert os.path.exists(os.path.join(out, 'benchmark.txt'))
assert j['skipped'] == 1 and j['edit']['entries'] == 1 and j['reconstruction']['entries'] == 1, j
for kind in ('edit', 'reconstruction'):
    m = j[kind]
    assert m['L1'] >= 0 and math.isfinite(m['L1']) and -1 <= m['SSIM'] <= 1 and m['PSNR'] > 0, m
assert 'skipped' in j['entries'][2]
for row in j['entries'][:2]:
    assert os.path.exists(os.path.join(out, row['image'])), row['image']
# The reconstruction entry re-renders every object from the predicted attributes: the predicted maps again.
for suffix in ('.png', '-normal.png', '-depth.png'):
    a = np.asarray(Image.open(os.path.join(geo, '%05d%s' % (frame, suffix))))
    b = np.asarray(Image.open(os.path.join(out, 'benchmark/geometric/0001/clone/%05d%s' % (frame, suffix))))
    assert a.shape == b.shape and (a == b).all(), '%s differs in %d pixels' % (suffix, int((a != b).sum()))
print('edit L1 %.4f, reconstruction L1 %.4f' % (j['edit']['L1'], j['reconstruction']['L1']))
PY
"$SDN" edit --geometric "$GEO" --textural-run "$T/tex" --edits "$T/bench.json" --out "$T/edits" \
  > "$T/edits.log" 2>&1 || fail "sdn edit --edits failed" "$T/edits.log"
F5=$(printf %05d "$FRAME"); OTHER=$(printf %05d $((FRAME != 356 ? 356 : 357)))
for f in "0001_clone_$F5-$OTHER.png" "0001_clone_$F5-${OTHER}_strip.png" "0001_clone_$F5-$F5.png"; do
  [[ -s $T/edits/$f ]] || fail "sdn edit --edits wrote no $f" "$T/edits.log"
done
grep -q "skipping 0001/clone/00999" "$T/edits.log" || fail "sdn edit --edits does not note the uncovered entry" "$T/edits.log"
pass "benchmark: metrics per kind, the uncovered entry skipped, the reconstruction re-renders the predictions exactly"

note "predicted inputs: a textural run on stand-in semantic maps and the derender run's maps of both splits"
"$SDN" predict --run-dir "$T/der" --split train --log-level warn > "$T/derpred-train.log" 2>&1 ||
  fail "derender predict (train split) failed" "$T/derpred-train.log"
# Stand-in semantic predictions (argmax ids 0..12 = class - 1) from the shards' ground truth.
$PY - "$SHARDS" "$T/sem" <<'PY' || fail "cannot write the stand-in semantic maps"
import glob, os, sys
import h5py, numpy as np
from PIL import Image
for path in glob.glob(os.path.join(sys.argv[1], '*.h5')):
    with h5py.File(path, 'r') as f:
        for i in range(f['class'].shape[0]):
            world, var = f['world'][i], f['variation'][i]
            world, var = (x.decode() if isinstance(x, bytes) else x for x in (world, var))
            d = os.path.join(sys.argv[2], world, var)
            os.makedirs(d, exist_ok=True)
            c = f['class'][i].astype(int)
            Image.fromarray(np.clip(np.where(c == 255, 1, c) - 1, 0, 12).astype(np.uint8), 'L').save(
                os.path.join(d, '%05d.png' % int(f['frame'][i])))
PY
"$SDN" train --config "$ROOT/configs/textural-demo.ini" --run-dir "$T/texp" --data.shards "$SHARDS" \
  --textural.inputs predicted --textural.semantic_dir "$T/sem" --textural.geometric_dir "$GEO" \
  --textural.load_width 0 --textural.crop_width 320 --textural.crop_height 96 --textural.niter 1 \
  --textural.niter_decay 1 --train.epochs 2 --train.iterations_per_epoch 1 --train.global_batch 1 \
  --train.per_rank_batch 1 --log-level warn > "$T/texp.log" 2>&1 || fail "textural training (predicted) failed" "$T/texp.log"
check "sdn edit with the predicted-inputs run"
"$SDN" edit --geometric "$GEO" --textural-run "$T/texp" --frame "0001/clone/$FRAME" --edit "$OBJ:move=$DX,0,0" \
  --out "$T/editp" > "$T/editp.log" 2>&1 || fail "sdn edit (predicted inputs) failed" "$T/editp.log"
[[ -s $T/editp/$NAME.png && -s $T/editp/${NAME}_strip.png ]] || fail "no edited image (predicted inputs)" "$T/editp.log"
rc=0; "$SDN" edit --geometric "$GEO" --textural-run "$T/texp" --frame "0001/clone/$FRAME" --edit "$OBJ:delete" \
  --semantic "$T/nosem" --out "$T/bad3" > "$T/bad3.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "a --semantic directory without the frame exited $rc, not 2" "$T/bad3.log"
grep -q -- "--semantic: $T/nosem/0001/clone/$(printf %05d "$FRAME").png does not exist" "$T/bad3.log" ||
  fail "the error does not name the missing semantic map" "$T/bad3.log"
pass "predicted inputs: labels from the semantic maps, normals from the edited maps; a missing map is named"

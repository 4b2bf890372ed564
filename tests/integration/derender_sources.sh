#!/bin/bash
# Issue 13 item 7: `sdn predict` of a derenderer run from either object source (derender.predict_boxes):
#  - maskrcnn with detections written from the ground truth (tight instance boxes and masks, in the Mask R-CNN
#    detection format) derenders the same objects as the gt source: the same 3D attributes per object, the same
#    normal and depth maps, the same instance map up to the key (detection id vs /objects row + 1);
#  - maskrcnn with a tiny Mask R-CNN run's own `sdn predict` output (2 ranks): one JSON object per kept detection
#    (car/van, more than 16^2 mask pixels), every instance-map pixel belongs to a detection (its mask, or the
#    paste window of its render), the other maps follow the painted pixels;
#  - a frame whose detection list is empty gets empty maps; a frame without a detection file is a usage error
#    naming the file and derender.detections; predict_boxes = maskrcnn without detections is refused, and
#    `sdn predict` takes only the stage's resume-neutral keys (not e.g. derender.crop_size).
source "$(dirname "$0")/lib.sh"

note "making a synthetic dataset (train frames 350-355, test frames 356-359, 640x192) in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 10 --first-frame 350 \
  --width 640 --height 192 --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
for split in train test; do
  "$SDN" pack --src "$T/tree" --out "$SHARDS" --split $split --log-level warn > "$T/pack-$split.log" 2>&1 ||
    fail "sdn pack --split $split failed" "$T/pack-$split.log"
done
cat > "$CONFIG" <<'INI'
stage = derender
[derender]
crop_size = 32
mask_size = 16
render_size = 24
mesh_stations = 8
[data]
threads = 1
[train]
epochs = 1
iterations_per_epoch = 3
global_batch = 4
per_rank_batch = 4
seed = 11
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
INI
note "a 3-step derenderer pretrain run"
rc=0; train "$T/derender.log" "$T/derender" || rc=$?
expect_rc "derender pretrain" $rc 0 "$T/derender.log"

note "predict from ground truth, and from the same objects written as Mask R-CNN detections"
"$SDN" predict --run-dir "$T/derender" --out "$T/gt" > "$T/gt.log" 2>&1 || fail "gt predict failed" "$T/gt.log"
grep -q "from ground truth" "$T/gt.log" || fail "the gt predict does not say its source" "$T/gt.log"
$PY - "$T/tree" "$T/gtdet/0001/clone" <<'PY' || fail "could not write the ground-truth detections"
# The Car/Van instance masks of the scenegt PNGs as `sdn predict` of stage maskrcnn writes detections.
import json, os, sys
import numpy as np
from PIL import Image
tree, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
codes = {}
for line in open(os.path.join(tree, 'vkitti_1.3.1_scenegt', '0001_clone_scenegt_rgb_encoding.txt')):
    w = line.split()
    if len(w) == 4 and ':' in w[0] and w[0].split(':')[0] in ('Car', 'Van'):
        codes[w[0]] = tuple(int(v) for v in w[1:])
tracks = {}
for f in range(356, 360):
    scene = np.asarray(Image.open(os.path.join(tree, 'vkitti_1.3.1_scenegt', '0001', 'clone', '%05d.png' % f)).convert('RGB'))
    found = []
    for name, rgb in codes.items():
        m = np.all(scene == rgb, axis=2)
        if m.sum() > 0:
            found.append((int(m.sum()), name, m))
    found.sort(key=lambda x: -x[0])
    dets = []
    for k, (area, name, m) in enumerate(found):
        ys, xs = np.where(m)
        mask = '%05d_mask%d.png' % (f, k + 1)
        img = Image.fromarray(m.astype(np.uint8), mode='P')
        img.putpalette([0, 0, 0, 255, 255, 255])
        img.save(os.path.join(out, mask))
        label, tid = name.split(':')
        dets.append({'id': k + 1, 'class': label.lower(), 'class_id': 1 if label == 'Car' else 2, 'score': 1.0,
                     'box': [int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1],
                     'mask_area': area, 'mask': mask})
        tracks['%d:%d' % (f, k + 1)] = int(tid)
    json.dump({'world': '0001', 'variation': 'clone', 'frame': f, 'width': scene.shape[1], 'height': scene.shape[0],
               'detections': dets}, open(os.path.join(out, '%05d.json' % f), 'w'))
json.dump(tracks, open(os.path.join(out, 'tracks.json'), 'w'))
print('ground-truth detections:', len(tracks))
PY
DET=(--derender.predict_boxes maskrcnn --derender.detections "$T/gtdet")
"$SDN" predict --run-dir "$T/derender" --out "$T/fromgt" "${DET[@]}" > "$T/fromgt.log" 2>&1 ||
  fail "predict from the ground-truth detections failed" "$T/fromgt.log"
grep -q "from the detections in $T/gtdet" "$T/fromgt.log" || fail "predict does not name the detections" "$T/fromgt.log"
$PY - "$T/gt/0001/clone" "$T/fromgt/0001/clone" "$T/gtdet/0001/clone" <<'PY' || fail "the two sources disagree"
import json, os, sys
import numpy as np
from PIL import Image
gt, det, dets = sys.argv[1:]
tracks = json.load(open(os.path.join(dets, 'tracks.json')))
objects = 0
for f in range(356, 360):
    a = json.load(open(os.path.join(gt, '%05d.json' % f)))
    b = json.load(open(os.path.join(det, '%05d.json' % f)))
    id_of_track = {t: int(k.split(':')[1]) for k, t in tracks.items() if int(k.split(':')[0]) == f}
    key_map = {int(k): id_of_track[o['track_id']] for k, o in a.items()}
    assert sorted(key_map.values()) == sorted(int(k) for k in b), (f, sorted(key_map.values()), sorted(b))
    for k, o in a.items():
        p = b[str(key_map[int(k)])]
        assert p['class_id'] == o['class_id'] and p['score'] == 1.0 and len(p['box']) == 4, (o, p)
        for key in ('depth', 'alpha', 'theta', 'translation', 'scale', 'rotation', 'center2d', 'zoom', 'ffd_coeffs'):
            x, y = np.atleast_1d(o[key]), np.atleast_1d(p[key])
            assert np.allclose(x, y, rtol=1e-5, atol=1e-6), (f, k, key, x, y)
        assert p['mesh'] == o['mesh'], (f, k)
        objects += 1
    ia = np.asarray(Image.open(os.path.join(gt, '%05d.png' % f)))
    ib = np.asarray(Image.open(os.path.join(det, '%05d.png' % f)))
    derendered = np.isin(ia, [int(k) for k in a])
    expect = np.vectorize(lambda v: key_map.get(int(v), -1))(ia)
    # Derendered pixels carry the same object; the others the same object where both sources listed it.
    mismatch = derendered & (ib != expect)
    assert mismatch.sum() <= 0.01 * max(1, derendered.sum()), (f, mismatch.sum(), derendered.sum())
    for s in ('-normal.png', '-depth.png'):
        x = np.asarray(Image.open(os.path.join(gt, '%05d%s' % (f, s)))).astype(np.int64)
        y = np.asarray(Image.open(os.path.join(det, '%05d%s' % (f, s)))).astype(np.int64)
        assert x.shape == y.shape and (x != y).any(axis=-1 if x.ndim == 3 else None).mean() <= 0.01, (f, s)
print('objects derendered alike from both sources:', objects)
assert objects > 0
PY
pass "ground-truth boxes as detections give the gt source's predictions"

# Two steps leave the Mask R-CNN classifier scoring every RoI as background (docs/fidelity.md): a copy of its
# checkpoint gets class logits biased off the background (CRC rewritten), so that it detects (random) cars and
# vans. The detections' masks are the mask head's min-max stretched output, about half of each box.
note "a tiny Mask R-CNN run (2 steps, background logit suppressed) and its detections on the test split (2 ranks)"
cat > "$T/maskrcnn.ini" <<'INI'
stage = maskrcnn
[maskrcnn]
image_size = 128
resnet = 50
anchor_scales = 8,16,32,64,128
rpn_train_anchors_per_image = 32
pre_nms_limit = 500
post_nms_rois_training = 50
post_nms_rois_inference = 50
train_rois_per_image = 12
detection_max_instances = 20
detection_min_confidence = 0
bn_init = damped
predict_min_mask_area = 4
[data]
threads = 1
[train]
epochs = 1
iterations_per_epoch = 2
global_batch = 2
per_rank_batch = 2
seed = 11
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
INI
"$SDN" train --config "$T/maskrcnn.ini" --run-dir "$T/maskrcnn" --data.shards "$SHARDS" > "$T/maskrcnn.log" 2>&1 ||
  fail "maskrcnn train failed" "$T/maskrcnn.log"
$PY - "$(ckpt_file "$T/maskrcnn" 2)" "$T/detector.h5" <<'PY' || fail "could not edit the Mask R-CNN checkpoint"
import shutil, sys, zlib
import h5py
import numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], 'r+') as f:
    d = f['tensors/model/classifier.linear_class.bias']
    v = np.array([-30, 0, 0], dtype=np.float32)
    d[...] = v
    d.attrs['crc32'] = np.uint32(zlib.crc32(v.tobytes()))
PY
"${MPIRUN[@]}" "$SDN" predict --run-dir "$T/maskrcnn" --ckpt "$T/detector.h5" --out "$T/det" > "$T/det.log" 2>&1 ||
  fail "maskrcnn predict failed" "$T/det.log"
"${MPIRUN[@]}" "$SDN" predict --run-dir "$T/derender" --out "$T/fromdet" --derender.predict_boxes maskrcnn \
  --derender.detections "$T/det" > "$T/fromdet.log" 2>&1 || fail "predict from the Mask R-CNN detections failed" "$T/fromdet.log"
$PY - "$T/fromdet/0001/clone" "$T/det/0001/clone" <<'PY' || fail "the predictions do not follow the detections" "$T/fromdet.log"
import json, os, sys
import numpy as np
from PIL import Image
pred, det = sys.argv[1:]
S = 24  # derender.render_size
kept = listed = 0
for f in range(356, 360):
    d = json.load(open(os.path.join(det, '%05d.json' % f)))
    p = json.load(open(os.path.join(pred, '%05d.json' % f)))
    inst = np.asarray(Image.open(os.path.join(pred, '%05d.png' % f)))
    depth = np.asarray(Image.open(os.path.join(pred, '%05d-depth.png' % f)))
    masks = {x['id']: np.asarray(Image.open(os.path.join(det, x['mask']))) > 0 for x in d['detections']}
    want = sorted(x['id'] for x in d['detections']
                  if x['mask_area'] > 256 and x['box'][2] > x['box'][0] and x['box'][3] > x['box'][1])
    assert sorted(int(k) for k in p) == want, (f, sorted(p), want)
    listed += len(d['detections'])
    kept += len(want)
    for k, o in p.items():
        x = next(x for x in d['detections'] if x['id'] == int(k))
        assert o['class_id'] == (2 if x['class_id'] == 1 else 12) and o['score'] == x['score'] and o['box'] == x['box']
        # The render is pasted into a window of side S / zoom around the projected centre.
        size = int(S / o['zoom'])
        top, left = int(o['center2d'][0] - size // 2), int(o['center2d'][1] - size // 2)
        ys, xs = np.where(inst == int(k))
        assert ((ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)).all(), (f, k)
    for v in np.unique(inst):
        if v == 0:
            continue
        assert int(v) in masks, 'frame %d: instance value %d is no detection' % (f, v)
        if str(int(v)) not in p:
            assert masks[int(v)][inst == v].all(), 'frame %d: detection %d painted outside its mask' % (f, v)
    assert ((depth < 65535) <= np.isin(inst, [int(k) for k in p])).all(), 'depth outside the derendered objects'
print('Mask R-CNN detections: %d listed, %d derendered' % (listed, kept))
assert kept > 0, 'no detection was derendered: the test needs some (%d listed)' % listed
PY
pass "predict from a Mask R-CNN run's detections"

note "an empty detection list gives empty maps; a missing detection file and a missing directory are refused"
cp -r "$T/gtdet" "$T/edit"
$PY - "$T/edit/0001/clone/00357.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d['detections'] = []; json.dump(d, open(sys.argv[1], 'w'))
PY
rm "$T/edit/0001/clone/00358.json"
rc=0; "$SDN" predict --run-dir "$T/derender" --out "$T/edited" --indices 1 --derender.predict_boxes maskrcnn \
  --derender.detections "$T/edit" > "$T/empty.log" 2>&1 || rc=$?
expect_rc "predict of a frame without detections" $rc 0 "$T/empty.log"
$PY - "$T/edited/0001/clone" <<'PY' || fail "the maps of a frame without detections are not empty"
import json, os, sys
import numpy as np
from PIL import Image
d = sys.argv[1]
assert json.load(open(os.path.join(d, '00357.json'))) == {}
assert (np.asarray(Image.open(os.path.join(d, '00357.png'))) == 0).all()
assert (np.asarray(Image.open(os.path.join(d, '00357-depth.png'))) == 65535).all()
assert (np.asarray(Image.open(os.path.join(d, '00357-normal.png'))) == 127).all()
PY
rc=0; "$SDN" predict --run-dir "$T/derender" --out "$T/edited" --indices 2 --derender.predict_boxes maskrcnn \
  --derender.detections "$T/edit" > "$T/missing.log" 2>&1 || rc=$?
expect_rc "predict of a frame without a detection file" $rc 2 "$T/missing.log"
grep -q "derender.detections: no $T/edit/0001/clone/00358.json" "$T/missing.log" ||
  fail "the error does not name the missing file and the option" "$T/missing.log"
rc=0; "$SDN" predict --run-dir "$T/derender" --out "$T/edited" --derender.predict_boxes maskrcnn > "$T/nodir.log" 2>&1 || rc=$?
expect_rc "predict_boxes = maskrcnn without detections" $rc 2 "$T/nodir.log"
grep -q "derender.detections" "$T/nodir.log" || fail "the refusal does not name derender.detections" "$T/nodir.log"
rc=0; "$SDN" predict --run-dir "$T/derender" --out "$T/edited" --derender.crop_size 64 > "$T/math.log" 2>&1 || rc=$?
expect_rc "predict overriding a key the weights depend on" $rc 2 "$T/math.log"
pass "empty detections, a missing file and a missing option; predict overrides only the stage's neutral keys"

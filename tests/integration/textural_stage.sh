#!/bin/bash
# Issue 14: the textural stage (pix2pixHD, phases G and D) on synthetic shards with a tiny net on 64x32 crops:
#  - 2 ranks x 2 micro-batches train; metrics.tsv logs every G/* and D/* term and lr/G, lr/D, and the rate
#    follows the 1 + 2 epoch schedule (base, base, base/2);
#  - a 3-segment run resumes bit-exactly (final checkpoint digest and metrics.tsv equal to the uninterrupted
#    run's), so the crops, both Adam states and the InstanceNorm buffers of netG, netE, netD are all restored;
#  - eval prints L1 / PSNR / SSIM (json in range) and predict writes reconstructions and image | reconstruction
#    strips; the VGG loss without textural.vgg_weights is refused, naming the key, and with a seeded VGG-19
#    in torchvision's layout (converted by scripts/pth_to_h5.py) it trains and reports G/vgg > 0;
#  - textural.inputs = predicted reads a semantic run's label PNGs (written here as `sdn predict` lays them out),
#    and with textural.geometric_dir a derenderer run's instance maps, JSON poses and normal maps (a fake
#    derenderer predict output): the G loss changes with them, and a missing normal map is named.
source "$(dirname "$0")/lib.sh"
STEPS=6

note "synthetic shards in $T"
"$SDN" synth --layout vkitti1 --out "$T/tree" --worlds 0001 --variations clone --frames 6 --width 160 --height 48 \
  --threads 1 --log-level warn > "$T/synth.log" 2>&1 || fail "sdn synth failed" "$T/synth.log"
"$SDN" pack --src "$T/tree" --out "$SHARDS" --split train --log-level warn > "$T/pack.log" 2>&1 ||
  fail "sdn pack failed" "$T/pack.log"
cat > "$CONFIG" <<'INI'
stage = textural
[textural]
inputs = groundtruth
vgg_loss = false
ngf = 4
n_downsample_global = 2
n_blocks_global = 1
nef = 4
n_downsample_E = 2
ndf = 4
n_layers_D = 2
num_D = 2
niter = 1
niter_decay = 2
load_width = 128
crop_width = 64
crop_height = 32
[data]
threads = 1
[train]
epochs = 3
iterations_per_epoch = 2
global_batch = 4
per_rank_batch = 1
seed = 11
log_every = 1
threads = 1
[ckpt]
every_steps = 0
every_minutes = 0
keep_last = 10
INI

note "the VGG loss without weights is refused"
rc=0; train "$T/vgg.log" "$T/vgg" --textural.vgg_loss true || rc=$?
expect_rc "VGG loss without textural.vgg_weights" $rc 2 "$T/vgg.log"
grep -q "textural.vgg_weights" "$T/vgg.log" || fail "the refusal does not name textural.vgg_weights" "$T/vgg.log"
pass "missing VGG weights refused and named"

note "the VGG loss with a seeded torchvision-layout VGG-19 converted by scripts/pth_to_h5.py"
"$PY" - "$T/vgg19.pth" <<'PY' || fail "writing the seeded VGG-19 failed"
import sys, torch
torch.manual_seed(19)
state, i, cin = {}, 0, 3
for c in [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512]:  # features[:30]
    if c == 0:
        i += 1  # max-pool
        continue
    state['features.%d.weight' % i] = torch.randn(c, cin, 3, 3) * (2.0 / (9 * cin)) ** 0.5
    state['features.%d.bias' % i] = torch.zeros(c)
    cin, i = c, i + 2  # conv, ReLU
torch.save(state, sys.argv[1])
PY
"$PY" "$HERE/../../scripts/pth_to_h5.py" --state "$T/vgg19.pth" --out "$T/vgg19.h5" > "$T/vgg-convert.log" 2>&1 ||
  fail "pth_to_h5.py failed on the VGG-19" "$T/vgg-convert.log"
rc=0; train "$T/vggon.log" "$T/vggon" --textural.vgg_loss true --textural.vgg_weights "$T/vgg19.h5" \
  --train.per_rank_batch 2 --train.epochs 3 --train.iterations_per_epoch 1 || rc=$?
expect_rc "training with the VGG loss" $rc 0 "$T/vggon.log"
v=$(head -n 1 "$T/vggon/logs/metrics.tsv" | grep -o 'G/vgg=[^	]*' | cut -d= -f2)
awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "G/vgg is '$v' with the VGG loss on" "$T/vggon/logs/metrics.tsv"
pass "VGG loss from converted weights (G/vgg $v)"

note "uninterrupted 2-rank reference ($STEPS steps, 2 micro-batches per rank)"
rc=0; train_mpi "$T/ref.log" "$T/ref" || rc=$?
expect_rc "reference" $rc 0 "$T/ref.log"
REF=$(digest "$(ckpt_file "$T/ref" $STEPS)")
check "metrics.tsv: every term and both phases' rates"
for key in G/l1= G/gan= G/feat= G/vgg=0 D/real= D/fake= lr/G= lr/D=; do
  n=$(grep -c "	$key" "$T/ref/logs/metrics.tsv" || true)
  [[ $n == "$STEPS" ]] || fail "metrics.tsv has '$key' on $n of $STEPS lines" "$T/ref/logs/metrics.tsv"
done
rates=$(grep -o 'lr/G=[^	]*' "$T/ref/logs/metrics.tsv" | sort -u | wc -l)
[[ $rates == 2 ]] || fail "lr/G takes $rates values over 3 epochs (1 constant + 2 decaying), expected 2" "$T/ref/logs/metrics.tsv"
for key in lr/G lr/D; do
  last=$(tail -n 1 "$T/ref/logs/metrics.tsv" | grep -o "$key=[^	]*" | cut -d= -f2)
  awk -v v="$last" 'BEGIN { exit !(v > 0.9e-4 && v < 1.1e-4) }' || fail "$key in the last epoch is $last, expected 1e-4"
done
pass "terms and schedule logged"

note "the same run in 3 segments: 0->2, 2->3, 3->$STEPS"
for limit in 2 1 0; do
  rc=0; train_mpi "$T/seg$limit.log" "$T/seg" --stop.max_steps_this_run $limit || rc=$?
  expect_rc "segment with step limit $limit" $rc "$([[ $limit == 0 ]] && echo 0 || echo 3)" "$T/seg$limit.log"
done
expect_resumed "$T/seg1.log" 2
expect_resumed "$T/seg0.log" 3
[[ $(digest "$(ckpt_file "$T/seg" $STEPS)") == "$REF" ]] || fail "the 3-segment run's final weights differ from the reference"
expect_same_metrics "$T/ref" "$T/seg"
pass "bit-exact resume"

note "2-rank eval and predict"
"${MPIRUN[@]}" "$SDN" eval --run-dir "$T/ref" --split train > "$T/eval.log" 2>&1 || fail "eval failed" "$T/eval.log"
grep -q "^L1 .* PSNR .* SSIM " "$T/eval.log" || fail "eval printed no L1/PSNR/SSIM line" "$T/eval.log"
json=$(ls "$T"/ref/eval/train-step-$STEPS.json) || fail "eval wrote no json"
"$PY" -c "import json,sys; j=json.load(open('$json')); sys.exit(0 if 0 < j['L1'] < 2 and 0 < j['PSNR'] < 100 and -1 <= j['SSIM'] <= 1 and j['samples'] == 6 else 1)" ||
  fail "eval json is out of range" "$json"
"${MPIRUN[@]}" "$SDN" predict --run-dir "$T/ref" --split train --indices 0,3,5 > "$T/predict.log" 2>&1 ||
  fail "predict failed" "$T/predict.log"
n=$(find "$T/ref/predict" -name '*_strip.png' | wc -l)
m=$(find "$T/ref/predict" -name '*.png' ! -name '*_strip.png' | wc -l)
[[ $n == 3 && $m == 3 ]] || fail "predict wrote $m reconstructions and $n strips, expected 3 each" "$T/predict.log"
# PNG IHDR: width and height at bytes 16..23.
size() { "$PY" -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print('%dx%d' % struct.unpack('>II', d[16:24]))" "$1"; }
[[ $(size "$(find "$T/ref/predict" -name '*_strip.png' | head -n 1)") == 128x32 ]] || fail "a strip is not 2 x 64 by 32"
[[ $(size "$(find "$T/ref/predict" -name '*.png' ! -name '*_strip.png' | head -n 1)") == 64x32 ]] ||
  fail "a reconstruction is not the 64x32 centre crop"
pass "eval (L1, PSNR, SSIM) and predict (3 reconstructions + strips) on 2 ranks"

note "predicted inputs: label PNGs laid out as a semantic run's predict output"
"$PY" - "$T/tree" "$T/labels" <<'PY'
import os, sys, zlib, struct
tree, out = sys.argv[1], sys.argv[2]
def png(path, w, h, rows):  # 8-bit greyscale PNG
    raw = b''.join(b'\0' + bytes(r) for r in rows)
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) + \
        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)
d = os.path.join(out, '0001', 'clone'); os.makedirs(d)
for f in range(6):  # stripes of predicted classes 0..12
    png(os.path.join(d, '%05d.png' % f), 160, 48, [[(x // 13 + f) % 13 for x in range(160)] for y in range(48)])
PY
rc=0; train "$T/pred.log" "$T/pred" --textural.inputs predicted --textural.semantic_dir "$T/labels" \
  --train.per_rank_batch 2 --train.epochs 3 --train.iterations_per_epoch 1 || rc=$?
expect_rc "training on predicted label maps" $rc 0 "$T/pred.log"
rc=0; train "$T/pred-missing.log" "$T/pred-missing" --textural.inputs predicted --textural.semantic_dir "$T/nowhere" \
  --train.per_rank_batch 2 --train.epochs 3 --train.iterations_per_epoch 1 || rc=$?
[[ $rc != 0 ]] && grep -q "$T/nowhere" "$T/pred-missing.log" || fail "a missing label map is not named" "$T/pred-missing.log"
pass "predicted label maps read; a missing one is named"

note "predicted inputs with textural.geometric_dir: a derenderer predict output (instances, poses, normals)"
"$PY" - "$T/geo" <<'PY'
import json, os, sys, zlib, struct
out = sys.argv[1]
def png(path, w, h, rows, colour):  # 8-bit PNG, colour type 0 (grey) or 2 (RGB)
    raw = b''.join(b'\0' + bytes(r) for r in rows)
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, colour, 0, 0, 0)) + \
        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)
d = os.path.join(out, '0001', 'clone'); os.makedirs(d)
obj = lambda x: 1 if 40 <= x < 80 else 2 if 100 <= x < 120 else 0
for f in range(6):
    base = os.path.join(d, '%05d' % f)
    png(base + '.png', 160, 48, [[obj(x) for x in range(160)] for y in range(48)], 0)
    png(base + '-normal.png', 160, 48,
        [sum(([x, y * 5, 200] if obj(x) else [127, 127, 127] for x in range(160)), []) for y in range(48)], 2)
    json.dump({'1': {'class_id': 2, 'depth': 10.0, 'alpha': 1.0 + f / 10}, '2': {'class_id': 12, 'depth': 20.0, 'alpha': -2.0}},
              open(base + '.json', 'w'))
PY
rc=0; train "$T/geo.log" "$T/geo-run" --textural.inputs predicted --textural.semantic_dir "$T/labels" \
  --textural.geometric_dir "$T/geo" --train.per_rank_batch 2 --train.epochs 3 --train.iterations_per_epoch 1 || rc=$?
expect_rc "training on predicted label and geometric maps" $rc 0 "$T/geo.log"
grep -q "instances, poses and normals from $T/geo" "$T/geo.log" || fail "no log line naming textural.geometric_dir" "$T/geo.log"
l1() { head -n 1 "$1/logs/metrics.tsv" | grep -o 'G/l1=[^	]*' | cut -d= -f2; }
[[ -n $(l1 "$T/geo-run") && $(l1 "$T/geo-run") != "$(l1 "$T/pred")" ]] ||
  fail "the first G/l1 ($(l1 "$T/geo-run")) equals the run without geometric maps ($(l1 "$T/pred")): they were not used"
cp -r "$T/geo" "$T/geo-missing" && rm "$T"/geo-missing/0001/clone/*-normal.png
rc=0; train "$T/geo-missing.log" "$T/geo-missing-run" --textural.inputs predicted --textural.semantic_dir "$T/labels" \
  --textural.geometric_dir "$T/geo-missing" --train.per_rank_batch 2 --train.epochs 3 --train.iterations_per_epoch 1 || rc=$?
[[ $rc != 0 ]] && grep -q "$T/geo-missing/0001/clone/[0-9]*-normal.png" "$T/geo-missing.log" ||
  fail "a missing normal map is not named" "$T/geo-missing.log"
pass "derenderer instances, poses and normals read (G/l1 $(l1 "$T/geo-run") vs $(l1 "$T/pred")); a missing file is named"

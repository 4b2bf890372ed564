#!/bin/bash
# Issue 14: the textural stage starts from one weights file per module (model.init_weights =
# netG=FILE,netE=FILE,netD=FILE), as the original's released latest_net_G/E/D.pth converted by
# scripts/pth_to_h5.py. Seeded torch nets with the original's state_dict names (bench/textural_reference.py,
# running statistics randomised too) are saved as .pth, converted, imported by the stage and exported again by
# `sdn weights export`: every entry equals the torch one. A module left out keeps its seeded init; a single
# file, an unknown module and a module named twice are refused, naming model.init_weights.
source "$(dirname "$0")/lib.sh"

cat > "$CONFIG" <<'INI'
stage = textural
[textural]
vgg_loss = false
ngf = 8
n_downsample_global = 2
n_blocks_global = 1
nef = 4
n_downsample_E = 2
ndf = 8
n_layers_D = 3
num_D = 2
niter = 1
niter_decay = 1
load_width = 128
crop_width = 64
crop_height = 32
[train]
epochs = 2
seed = 5
INI

note "seeded torch nets with the original's names, saved as latest_net_{G,E,D}.pth and converted"
"$PY" - "$HERE/../../bench" "$T" <<'PY' || fail "writing the seeded torch nets failed"
import sys, torch
sys.path.insert(0, sys.argv[1])
import textural_reference as ref
torch.manual_seed(1404)
for name, short in (('netG', 'G'), ('netE', 'E'), ('netD', 'D')):
    net = ref.build(name, tiny=True)
    for k, v in net.state_dict().items():  # every entry away from any init the C++ side could produce
        if k.endswith('running_var'):
            v.uniform_(0.5, 2.0)
        elif k.endswith('num_batches_tracked'):
            v.fill_(7)
        elif v.is_floating_point():
            v.normal_(0.0, 0.1)
    torch.save(net.state_dict(), '%s/latest_net_%s.pth' % (sys.argv[2], short))
PY
for m in G E D; do
  "$PY" "$HERE/../../scripts/pth_to_h5.py" --state "$T/latest_net_$m.pth" --out "$T/net$m.h5" \
    > "$T/convert-$m.log" 2>&1 || fail "pth_to_h5.py failed on latest_net_$m.pth" "$T/convert-$m.log"
done

export_module() {  # export_module MODULE OUT [ARGS...]: the stage's module as built from the config
  local module=$1 out=$2; shift 2
  "$SDN" weights export --config "$CONFIG" --module "$module" --out "$out" "$@" > "$T/export-$module.log" 2>&1
}
compare() {  # compare H5 PTH: 'equal' when every state_dict entry matches exactly
  "$PY" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np, torch
state = torch.load(sys.argv[2])
with h5py.File(sys.argv[1], 'r') as f:
    keys = sorted(f.keys())
    bad = [k for k in state if k not in f or not np.array_equal(np.asarray(f[k][()]), state[k].numpy())]
print('equal' if not bad and len(keys) == len(state) else 'differ: %d of %d (%s)' % (len(bad), len(state), bad[:3]))
PY
}

note "all three modules from their files"
INIT="netG=$T/netG.h5,netE=$T/netE.h5,netD=$T/netD.h5"
for m in G E D; do
  export_module "net$m" "$T/out$m.h5" --model.init_weights "$INIT" ||
    fail "export of net$m failed" "$T/export-net$m.log"
  r=$(compare "$T/out$m.h5" "$T/latest_net_$m.pth")
  [[ $r == equal ]] || fail "net$m imported from latest_net_$m.pth: $r"
done
pass "netG, netE, netD equal the torch state_dicts entry for entry (parameters and running statistics)"

note "a module left out keeps its seeded init"
export_module netE "$T/seedE.h5" --model.init_weights "netG=$T/netG.h5" || fail "export failed" "$T/export-netE.log"
r=$(compare "$T/seedE.h5" "$T/latest_net_E.pth")
[[ $r == differ* ]] || fail "netE without a file equals the file: $r"
export_module netG "$T/onlyG.h5" --model.init_weights "netG=$T/netG.h5" || fail "export failed" "$T/export-netG.log"
[[ $(compare "$T/onlyG.h5" "$T/latest_net_G.pth") == equal ]] || fail "netG=FILE alone did not load netG"
pass "only the named modules are loaded"

note "malformed values are refused, naming the key"
for bad in "$T/netG.h5" "netX=$T/netG.h5" "netG=$T/netG.h5,netG=$T/netG.h5" "netG=$T/netE.h5"; do
  rc=0; export_module netG "$T/bad.h5" --model.init_weights "$bad" || rc=$?
  [[ $rc -ne 0 ]] || fail "model.init_weights = $bad was accepted"
  grep -q "model.init_weights\|netE.h5" "$T/export-netG.log" ||
    fail "the refusal of '$bad' names neither the key nor the file" "$T/export-netG.log"
done
pass "one file, an unknown module, a module named twice and another module's file are refused"

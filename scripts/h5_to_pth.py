#!/usr/bin/python3
"""Converts an sdn weights file (HDF5, from `sdn weights export` or pth_to_h5.py) back into PyTorch .pth.

  h5_to_pth.py --in w.h5 --out model.pth
      one state_dict in the file's order (load with model.load_state_dict(torch.load(...)))
  h5_to_pth.py --in w.h5 --out-encoder encoder.pth --out-decoder decoder.pth
      the original 3D-SDN pair (prefixes "encoder." / "decoder." removed), for semantic/vkitti_*.py --ckpt

  --no-num-batches-tracked   omit num_batches_tracked (for PyTorch 0.4.0, which does not know it)
The original SynchronizedBatchNorm2d buffers (_tmp_running_mean, _tmp_running_var, _running_iter) are part of
the sdn model and are written as they are, so the files load with strict=True into the original modules.
Needs torch and h5py (Debian: /usr/bin/python3).
"""
import argparse
import collections
import os
import sys

import h5py
import numpy as np
import torch

FORMAT = 'sdn-weights'


def read_weights(path):
    with h5py.File(path, 'r') as f:
        fmt = f.attrs.get('format')
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != FORMAT:
            sys.exit('h5_to_pth: %s is not an sdn weights file (format attribute %r)' % (path, fmt))
        model = f.attrs.get('model')
        entries = []
        for name, ds in f.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            # torch.tensor copies and keeps 0-d (scalar) datasets 0-d.
            tensor = torch.tensor(np.asarray(ds[()]))
            entries.append((int(ds.attrs.get('order', len(entries))), name, tensor))
    entries.sort(key=lambda e: e[0])
    return collections.OrderedDict((n, t) for _, n, t in entries), model


def without_nbt(state, keep_nbt):
    return collections.OrderedDict(
        (k, v) for k, v in state.items() if keep_nbt or not k.endswith('num_batches_tracked'))


def save(obj, path):
    tmp = '%s.tmp-%d' % (path, os.getpid())
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--in', dest='src', required=True, help='sdn weights file')
    p.add_argument('--out', help='one state_dict .pth')
    p.add_argument('--out-encoder', help="the original's encoder .pth")
    p.add_argument('--out-decoder', help="the original's decoder .pth")
    p.add_argument('--no-num-batches-tracked', action='store_true')
    a = p.parse_args(argv)
    split = bool(a.out_encoder or a.out_decoder)
    if bool(a.out) == split or (split and not (a.out_encoder and a.out_decoder)):
        p.error('give either --out, or --out-encoder and --out-decoder')
    state, model = read_weights(a.src)
    state = without_nbt(state, not a.no_num_batches_tracked)
    if not split:
        save(state, a.out)
        print('h5_to_pth: wrote %d entries of %s to %s' % (len(state), model, a.out))
        return
    parts = {'encoder.': collections.OrderedDict(), 'decoder.': collections.OrderedDict()}
    for k, v in state.items():
        prefix = k.split('.', 1)[0] + '.'
        if prefix not in parts:
            sys.exit('h5_to_pth: %s holds %s, which is neither encoder.* nor decoder.*; use --out' % (a.src, k))
        parts[prefix][k[len(prefix):]] = v
    save(parts['encoder.'], a.out_encoder)
    save(parts['decoder.'], a.out_decoder)
    print('h5_to_pth: wrote %d encoder and %d decoder entries of %s'
          % (len(parts['encoder.']), len(parts['decoder.']), model))


if __name__ == '__main__':
    main(sys.argv[1:])

#!/usr/bin/python3
"""Converts a PyTorch state_dict (.pth) of a 3D-SDN model into an sdn weights file (HDF5).

  pth_to_h5.py --encoder encoder_epoch_25.pth --decoder decoder_epoch_25.pth --out w.h5
      the original 3D-SDN checkpoint pair; keys get the prefixes "encoder." and "decoder."
  pth_to_h5.py --state model.pth --out w.h5 [--model drn_d_22]
      one state_dict (also a {'state_dict': ...} checkpoint; DataParallel's "module." prefix is removed);
      the textural branch's 60_net_G.pth / _E / _D (textural_netG, textural_netE, textural_netD) and
      torchvision's vgg19-dcbb9e9d.pth (vgg19, for textural.vgg_weights) are recognised by their keys

The weights file has one dataset per state_dict entry (float32, or int64 for integer tensors) with an "order"
attribute, and root attributes format="sdn-weights", format_version=1, model=<architecture>
(read by `sdn weights import`; see src/models/weights_io.hpp). The original SynchronizedBatchNorm2d keeps
bookkeeping buffers (_tmp_running_mean, _tmp_running_var, _running_iter) next to running_mean/running_var,
which already hold the corrected values; they are dropped. BatchNorm layers saved by PyTorch 0.4.0 lack
num_batches_tracked; it is added as 0. Needs torch and h5py (Debian: /usr/bin/python3).
"""
import argparse
import collections
import os
import sys

import h5py
import numpy as np
import torch

FORMAT = 'sdn-weights'
FORMAT_VERSION = 1
SYNCBN_BOOKKEEPING = ('_tmp_running_mean', '_tmp_running_var', '_running_iter')


def load_state(path):
    obj = torch.load(path, map_location='cpu')
    if isinstance(obj, dict) and 'state_dict' in obj and isinstance(obj['state_dict'], dict):
        obj = obj['state_dict']
    if not isinstance(obj, dict):
        sys.exit('pth_to_h5: %s holds a %s, not a state_dict' % (path, type(obj).__name__))
    out = collections.OrderedDict()
    for k, v in obj.items():
        if not torch.is_tensor(v):
            sys.exit('pth_to_h5: %s: entry %s is a %s, not a tensor' % (path, k, type(v).__name__))
        out[k[len('module.'):] if k.startswith('module.') else k] = v
    return out


def normalise(state):
    """Drops the original SyncBN bookkeeping buffers, adds missing num_batches_tracked; keeps the order."""
    out = collections.OrderedDict()
    dropped = 0
    for k, v in state.items():
        if k.rsplit('.', 1)[-1] in SYNCBN_BOOKKEEPING:
            dropped += 1
            continue
        out[k] = v
        if k.endswith('.running_var'):
            nbt = k[:-len('running_var')] + 'num_batches_tracked'
            if nbt not in state:
                out[nbt] = torch.tensor(0, dtype=torch.int64)
    return out, dropped


def guess_model(state):
    keys = list(state)
    if keys and all(k.startswith(('encoder.', 'decoder.')) for k in keys):
        return 'resnet50dilated8_ppm_deepsup'
    if keys and all(k.startswith(('base.', 'seg.', 'up.')) for k in keys):
        return 'drn_d_22'
    # The textural branch's <epoch>_net_{G,E,D}.pth (G and E share a layout; E reads the 3-channel image).
    if keys and all(k.startswith('scale') for k in keys):
        return 'textural_netD'
    if keys and all(k.startswith('model.') for k in keys) and 'model.1.weight' in state:
        return 'textural_netE' if state['model.1.weight'].shape[1] == 3 else 'textural_netG'
    if keys and all(k.startswith(('features.', 'classifier.')) for k in keys):
        return 'vgg19'
    return None


def write_weights(state, model, path):
    tmp = '%s.tmp-%d' % (path, os.getpid())
    try:
        with h5py.File(tmp, 'w') as f:
            f.attrs['format'] = FORMAT
            f.attrs['format_version'] = np.int64(FORMAT_VERSION)
            f.attrs['model'] = model
            for i, (k, v) in enumerate(state.items()):
                if v.is_floating_point():
                    a = v.detach().to(torch.float32).numpy()
                elif v.dtype in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
                    a = v.detach().to(torch.int64).numpy()
                else:
                    sys.exit('pth_to_h5: entry %s has unsupported dtype %s' % (k, v.dtype))
                ds = f.create_dataset(k, data=a)
                ds.attrs['order'] = np.int64(i)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--state', help='one state_dict .pth')
    p.add_argument('--encoder', help="the original's encoder_*.pth")
    p.add_argument('--decoder', help="the original's decoder_*.pth")
    p.add_argument('--model', help='architecture name (default: guessed from the keys)')
    p.add_argument('--out', required=True, help='weights file to write')
    a = p.parse_args(argv)
    if bool(a.state) == bool(a.encoder or a.decoder):
        p.error('give either --state, or --encoder and --decoder')
    if a.state:
        state = load_state(a.state)
    else:
        if not (a.encoder and a.decoder):
            p.error('--encoder and --decoder go together')
        state = collections.OrderedDict()
        for prefix, path in (('encoder.', a.encoder), ('decoder.', a.decoder)):
            for k, v in load_state(path).items():
                state[prefix + k] = v
    state, dropped = normalise(state)
    model = a.model or guess_model(state)
    if not model:
        p.error('cannot tell the architecture from the keys; pass --model')
    write_weights(state, model, a.out)
    print('pth_to_h5: wrote %d entries of %s to %s (dropped %d SyncBN bookkeeping buffers)'
          % (len(state), model, a.out, dropped))


if __name__ == '__main__':
    main(sys.argv[1:])

#!/usr/bin/python3
"""Converts a PyTorch state_dict (.pth) into an sdn weights file (HDF5): any 3D-SDN model (semantic; the
geometric branch's Mask R-CNN, mask_rcnn_vkitti_0100.pth / mask_rcnn_coco.pth, recognised as "maskrcnn"; textural).

  pth_to_h5.py --encoder encoder_epoch_25.pth --decoder decoder_epoch_25.pth --out w.h5
      the original 3D-SDN checkpoint pair; keys get the prefixes "encoder." and "decoder."
  pth_to_h5.py --state model.pth --out w.h5 [--model NAME]
      any one torch .pth: a plain state_dict, a checkpoint dict holding one under 'state_dict' (or
      'model_state_dict' / 'model'), DataParallel's "module." prefixes (removed), files of PyTorch 0.3/0.4
      (values saved as Variables/Parameters; BatchNorm without num_batches_tracked);
      the textural branch's 60_net_G.pth / _E / _D (textural_netG, textural_netE, textural_netD) and
      torchvision's vgg19-dcbb9e9d.pth (vgg19, for textural.vgg_weights) are recognised by their keys

The weights file has one dataset per state_dict entry (float32, or int64 for integer tensors) with an "order"
attribute, and root attributes format="sdn-weights", format_version=1, model=<architecture> (guessed from the
keys, else --model, else "unknown": fine for model.init_weights with model.init_map, which does not check it).
Normalisation, order kept:
  - a BatchNorm layer (running_var present) without num_batches_tracked gets one (0), as PyTorch >= 0.4.1 does;
  - a layer of the original SynchronizedBatchNorm2d (it has _running_iter) whose _tmp_running_mean/_var were
    left out (the original's checkpoint() drops them) gets them back as running_mean/var * _running_iter,
    the invariant its training keeps, so training can continue from the file.
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
FORMAT_VERSION = 1
CHECKPOINT_KEYS = ('state_dict', 'model_state_dict', 'model')


def as_tensor(v):
    """A tensor from a state_dict value; PyTorch 0.3 files may hold Variables or Parameters."""
    if isinstance(v, torch.nn.Parameter):
        return v.data
    if not torch.is_tensor(v) and torch.is_tensor(getattr(v, 'data', None)):
        return v.data
    return v if torch.is_tensor(v) else None


def load_state(path):
    obj = torch.load(path, map_location='cpu')
    if isinstance(obj, dict):
        for key in CHECKPOINT_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        sys.exit('pth_to_h5: %s holds a %s, not a state_dict' % (path, type(obj).__name__))
    out = collections.OrderedDict()
    for k, v in obj.items():
        t = as_tensor(v)
        if t is None:
            sys.exit('pth_to_h5: %s: entry %s is a %s, not a tensor (is this a state_dict?)'
                     % (path, k, type(v).__name__))
        out[k[len('module.'):] if k.startswith('module.') else k] = t.detach()
    return out


def normalise(state):
    """Adds missing num_batches_tracked and derivable SyncBN _tmp_* buffers in module order; returns the
    state and what was added."""
    out = collections.OrderedDict()
    added = collections.Counter()
    derived = ('num_batches_tracked', '_tmp_running_mean', '_tmp_running_var', '_running_iter')
    for k, v in state.items():
        layer, _, leaf = k.rpartition('.')
        prefix = layer + '.' if layer else ''
        if leaf in derived and prefix + 'running_var' in state:
            continue  # emitted with running_var, in module order
        out[k] = v
        if leaf != 'running_var':
            continue
        nbt = prefix + 'num_batches_tracked'
        if nbt in state:
            out[nbt] = state[nbt]
        else:
            out[nbt] = torch.tensor(0, dtype=torch.int64)
            added['num_batches_tracked'] += 1
        it = state.get(prefix + '_running_iter')
        if it is None:
            continue
        for name, stat in (('_tmp_running_mean', 'running_mean'), ('_tmp_running_var', 'running_var')):
            if prefix + name in state:
                out[prefix + name] = state[prefix + name]
            else:
                out[prefix + name] = state[prefix + stat] * it
                added[name] += 1
        out[prefix + '_running_iter'] = it
    return out, added


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
    if keys and all(k.startswith(('fpn.', 'rpn.', 'classifier.', 'mask.')) for k in keys):
        return 'maskrcnn'  # mask_rcnn_vkitti_*.pth / mask_rcnn_coco.pth of the geometric branch
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
    state, added = normalise(state)
    model = a.model or guess_model(state) or 'unknown'
    write_weights(state, model, a.out)
    notes = ', '.join('%d %s' % (n, k) for k, n in sorted(added.items()))
    print('pth_to_h5: wrote %d entries of %s to %s%s'
          % (len(state), model, a.out, ' (added: %s)' % notes if notes else ''))


if __name__ == '__main__':
    main(sys.argv[1:])

#!/usr/bin/python3
"""Python (PyTorch) sides of the C++ parity tests of models/ (tests/unit/test_models_bn_python.cpp,
test_models_pth.cpp). Inputs and outputs are HDF5 or .pth files named on the command line.

  parity.py norm IN.h5 OUT.h5          torch.nn.BatchNorm2d(eps) in eval mode (FrozenBatchNorm2d's reference)
                                       and InstanceNorm2d(track_running_stats=True), 2 training steps + eval
  parity.py imagenet-resnet OUT.pth    a seeded CSAIL deep-stem ResNet-50 with fc, plain BatchNorm2d, saved as
                                       PyTorch 0.4.0 did (no num_batches_tracked), as resnet50-imagenet.pth is
  parity.py variant make KIND OUT.pth  a seeded tiny module (conv + BatchNorm) saved in one of the .pth layouts
  parity.py variant check KIND IN.pth  loads IN.pth strictly into the same module and compares bit for bit
Kinds: plain, checkpoint (a {'state_dict': ...} of DataParallel 'module.' keys), torch04 (no
num_batches_tracked, values saved as Parameters), original (the original SynchronizedBatchNorm2d as its
checkpoint() saves it: _tmp_running_mean/_var left out).
"""
import collections
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'bench'))
import semantic_reference as ref  # noqa: E402


def read(f, k):
    return torch.tensor(np.asarray(f[k][()]))


def cmd_norm(src, dst):
    with h5py.File(src, 'r') as f:
        x0, x1, x_eval = read(f, 'x0'), read(f, 'x1'), read(f, 'x_eval')
        c = x0.shape[1]
        frozen = nn.BatchNorm2d(c, eps=float(read(f, 'eps')))
        with torch.no_grad():
            for k in ('weight', 'bias', 'running_mean', 'running_var'):
                getattr(frozen, k).copy_(read(f, 'frozen.' + k))
    frozen.eval()
    inorm = nn.InstanceNorm2d(c, affine=False, track_running_stats=True)
    inorm.train()
    with h5py.File(dst, 'w') as f, torch.no_grad():
        f['frozen.y'] = frozen(x0).numpy()
        f['instance.y0'] = inorm(x0).numpy()
        f['instance.y1'] = inorm(x1).numpy()
        for k, v in inorm.state_dict().items():
            f['instance.' + k] = v.numpy()
        inorm.eval()
        f['instance.y_eval'] = inorm(x_eval).numpy()
        f.attrs['frozen.names'] = ' '.join(frozen.state_dict().keys())
        f.attrs['instance.names'] = ' '.join(inorm.state_dict().keys())


def seeded_stats(module, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
                if isinstance(m, ref.OriginalSyncBN):
                    m._running_iter.fill_(3.5)
                    m._tmp_running_mean = m.running_mean * m._running_iter
                    m._tmp_running_var = m.running_var * m._running_iter


def cmd_imagenet_resnet(dst):
    torch.manual_seed(41)
    net = ref.ResnetDilated()
    net.fc = nn.Linear(2048, 1000)
    seeded_stats(net, 42)
    state = collections.OrderedDict((k, v) for k, v in net.state_dict().items()
                                    if not k.endswith('num_batches_tracked'))
    torch.save(state, dst)


class Tiny(nn.Module):
    def __init__(self, original):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = ref.OriginalSyncBN(4) if original else nn.BatchNorm2d(4)


def tiny(kind):
    torch.manual_seed(11)
    m = Tiny(kind == 'original')
    seeded_stats(m, 12)
    return m


def cmd_variant_make(kind, dst):
    sd = tiny(kind).state_dict()
    if kind == 'plain':
        obj = sd
    elif kind == 'checkpoint':
        obj = {'epoch': 3, 'state_dict': collections.OrderedDict(('module.' + k, v) for k, v in sd.items())}
    elif kind == 'torch04':
        obj = collections.OrderedDict((k, nn.Parameter(v.clone(), requires_grad=False)) for k, v in sd.items()
                                      if not k.endswith('num_batches_tracked'))
    elif kind == 'original':
        obj = collections.OrderedDict((k, v) for k, v in sd.items() if 'tmp_running' not in k)
    else:
        sys.exit('parity.py: unknown kind ' + kind)
    torch.save(obj, dst)


def cmd_variant_check(kind, src):
    want = tiny(kind)
    if kind == 'torch04':
        want.bn.num_batches_tracked.zero_()  # added as 0 by pth_to_h5.py
    got = Tiny(kind == 'original')
    got.load_state_dict(torch.load(src), strict=True)
    bad = [k for k, v in want.state_dict().items() if not torch.equal(v, got.state_dict()[k])]
    if bad:
        sys.exit('parity.py: %s differs after the round trip: %s' % (kind, ', '.join(bad)))


def main(argv):
    if argv[:1] == ['norm']:
        cmd_norm(argv[1], argv[2])
    elif argv[:1] == ['imagenet-resnet']:
        cmd_imagenet_resnet(argv[1])
    elif argv[:2] == ['variant', 'make']:
        cmd_variant_make(argv[2], argv[3])
    elif argv[:2] == ['variant', 'check']:
        cmd_variant_check(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])

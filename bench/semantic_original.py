"""The ORIGINAL 3D-SDN semantic model, imported from a checkout the user names (nothing of it is copied here).

`build(checkout, ...)` imports semantic/models.py, resnet.py and lib/nn from a clone of ysymyth/3D-SDN and
builds the training module exactly as semantic/vkitti_train.py main() does (ModelBuilder encoder + decoder,
NLLLoss(ignore_index=-1), SegmentationModule with deep_sup_scale, one SGD per net). The code is PyTorch
0.4-era; on torch 1.13 it imports and runs unchanged, with two runtime shims applied here, never to the files:
  - no download: build_encoder(weights='') would fetch resnet50-imagenet.pth, so the encoder is built the way
    build_encoder does it with pretrained=False (random weights; the speed does not depend on them);
  - bn='sync' only: the synchronised BN path (what the original runs on its 2 GPUs, with its own statistics
    and buffers) gathers with ReduceAddCoalesced/Broadcast, which need CUDA tensors; on one CPU process the
    master callback is replaced by the same arithmetic without the device copies (one "device": the sum is
    the local sum). bn='native' (default) is what the original runs on one device, CPU included:
    F.batch_norm, because `_is_parallel` is False without its DataParallel replication.
"""
import os
import sys


def _import_original(checkout):
    semantic = os.path.join(os.path.abspath(checkout), 'semantic')
    for f in ('models.py', 'resnet.py', os.path.join('lib', 'nn', 'modules', 'batchnorm.py')):
        if not os.path.isfile(os.path.join(semantic, f)):
            raise SystemExit('--original %s: no semantic/%s there (expected a clone of ysymyth/3D-SDN)' % (checkout, f))
    sys.path.insert(0, semantic)
    import models  # noqa: E402  (the original's; it imports resnet and lib.nn itself)
    import resnet  # noqa: E402
    from lib.nn.modules import batchnorm  # noqa: E402
    return models, resnet, batchnorm


def _cpu_master(self, intermediates):
    """_SynchronizedBatchNorm._data_parallel_master without the CUDA-only ReduceAddCoalesced/Broadcast."""
    sum_ = sum(i[1].sum for i in intermediates)
    ssum = sum(i[1].ssum for i in intermediates)
    sum_size = sum(i[1].sum_size for i in intermediates)
    mean, inv_std = self._compute_mean_std(sum_, ssum, sum_size)
    return [(rec[0], _master_message(mean, inv_std)) for rec in intermediates]


_master_message = None


def build(checkout, arch_encoder='resnet50_dilated8', arch_decoder='ppm_bilinear_deepsup', fc_dim=2048,
          num_class=14, deep_sup_scale=0.4, bn='native', lr=0.01, momentum=0.9, weight_decay=1e-4):
    """Returns (segmentation_module, [optimizer_encoder, optimizer_decoder], info dict)."""
    global _master_message
    import torch
    import torch.nn as nn
    models, resnet, batchnorm = _import_original(checkout)
    builder = models.ModelBuilder()
    if arch_encoder != 'resnet50_dilated8':
        raise SystemExit('--original: only resnet50_dilated8 is timed (the 3D-SDN vKITTI model)')
    # build_encoder(arch='resnet50_dilated8', weights='') minus the ImageNet download.
    net_encoder = models.ResnetDilated(resnet.__dict__['resnet50'](pretrained=False), dilate_scale=8)
    net_decoder = builder.build_decoder(arch=arch_decoder, fc_dim=fc_dim, num_class=num_class, weights='')
    crit = nn.NLLLoss(ignore_index=-1)
    module = models.SegmentationModule(net_encoder, net_decoder, crit, deep_sup_scale)
    if bn == 'sync':
        _master_message = batchnorm._MasterMessage
        for m in module.modules():
            if isinstance(m, batchnorm._SynchronizedBatchNorm):
                m._data_parallel_master = _cpu_master.__get__(m)
                m._sync_master = batchnorm.SyncMaster(m._data_parallel_master)
                m._is_parallel, m._parallel_id = True, 0
    elif bn != 'native':
        raise SystemExit('--original-bn: native or sync, not %r' % bn)
    # vkitti_train.py create_optimizers: one SGD per net, same hyper-parameters.
    opts = [torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
            for net in (net_encoder, net_decoder)]
    return module, opts, {'original': os.path.abspath(checkout), 'bn': bn}

#!/usr/bin/python3
"""The 3D-SDN semantic models in plain PyTorch, as the reference for the C++ port.

Same module structure and state_dict names as the original code: ysymyth/3D-SDN semantic/resnet.py + models.py
(encoder resnet50_dilated8 = CSAIL deep-stem ResNet-50 with _nostride_dilate, decoder ppm_bilinear_deepsup)
and fyu/drn drn.py + segment.py (drn_d_22 with the DRNSeg head). The ResNet-PPM model's BatchNorm is a
transcription of the original SynchronizedBatchNorm2d (semantic/lib/nn/modules/batchnorm.py): its buffers
(_tmp_running_mean, _tmp_running_var, _running_iter), momentum 0.001 with the bias-corrected cumulative
average, and 1/sqrt(max(var, eps)) in training, always on its synchronised path (as on the original's 2 GPUs);
DRN's is torch.nn.BatchNorm2d.

Uses (Debian's /usr/bin/python3 with python3-torch):
  bench/semantic_reference.py params resnet50dilated8_ppm_deepsup \
      > tests/golden/semantic_resnet50dilated8_ppm_deepsup.params.txt
  bench/semantic_reference.py params drn_d_22 > tests/golden/drn_d_22.params.txt
  bench/semantic_reference.py count resnet50dilated8_ppm_deepsup
  bench/semantic_reference.py forward drn_d_22 --weights w.h5 --input x.h5 --output y.h5 --size 61 45
  bench/semantic_reference.py bnstats --input steps.h5 --output stats.h5
  bench/semantic_reference.py load-pth resnet50dilated8_ppm_deepsup --encoder enc.pth --decoder dec.pth
  bench/semantic_reference.py step --model resnet50dilated8_ppm_deepsup --batch 2 --height 152 --width 496 --threads 2
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 14


class OriginalSyncBN(nn.BatchNorm2d):
    """The original SynchronizedBatchNorm2d (Jiayuan Mao's, as vendored by 3D-SDN), always on its synchronised
    path: sum and square-sum over the (global) batch, the cumulative running average, max(var, eps)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.001):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self._moving_average_fraction = 1. - momentum
        self.register_buffer('_tmp_running_mean', torch.zeros(self.num_features))
        self.register_buffer('_tmp_running_var', torch.ones(self.num_features))
        self.register_buffer('_running_iter', torch.ones(1))
        self._tmp_running_mean = self.running_mean.clone() * self._running_iter
        self._tmp_running_var = self.running_var.clone() * self._running_iter

    def forward(self, input):
        if not self.training:
            return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                                self.training, self.momentum, self.eps)
        input_shape = input.size()
        input = input.view(input.size(0), self.num_features, -1)
        sum_size = input.size(0) * input.size(2)
        input_sum = input.sum(dim=0).sum(dim=-1)
        input_ssum = (input ** 2).sum(dim=0).sum(dim=-1)
        mean, inv_std = self._compute_mean_std(input_sum, input_ssum, sum_size)
        output = (input - mean[None, :, None]) * (inv_std * self.weight)[None, :, None] + self.bias[None, :, None]
        return output.view(input_shape)

    @staticmethod
    def _add_weighted(dest, delta, alpha=1, beta=1, bias=0):
        return dest * alpha + delta * beta + bias

    def _compute_mean_std(self, sum_, ssum, size):
        assert size > 1, 'BatchNorm computes unbiased standard-deviation, which requires size > 1.'
        mean = sum_ / size
        sumvar = ssum - sum_ * mean
        unbias_var = sumvar / (size - 1)
        bias_var = sumvar / size
        self._tmp_running_mean = self._add_weighted(self._tmp_running_mean, mean.data,
                                                    alpha=self._moving_average_fraction)
        self._tmp_running_var = self._add_weighted(self._tmp_running_var, unbias_var.data,
                                                   alpha=self._moving_average_fraction)
        self._running_iter = self._add_weighted(self._running_iter, 1, alpha=self._moving_average_fraction)
        self.running_mean = self._tmp_running_mean / self._running_iter
        self.running_var = self._tmp_running_var / self._running_iter
        return mean, bias_var.clamp(self.eps) ** -0.5


BN = nn.BatchNorm2d


def bn(channels):
    return BN(channels)


# ---------------------------------------------------------------- encoder resnet50_dilated8 (3D-SDN / CSAIL)

class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = bn(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


def make_stage(inplanes, planes, blocks, stride):
    downsample = None
    if stride != 1 or inplanes != planes * 4:
        downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), bn(planes * 4))
    layers = [Bottleneck(inplanes, planes, stride, downsample)]
    layers += [Bottleneck(planes * 4, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


def dilate_in_place(stage, dilate):
    """The original _nostride_dilate: strided convs lose their stride (3x3 ones get dilate/2), other 3x3 get dilate."""
    for m in stage.modules():
        if not isinstance(m, nn.Conv2d):
            continue
        if m.stride == (2, 2):
            m.stride = (1, 1)
            if m.kernel_size == (3, 3):
                m.dilation = m.padding = (dilate // 2, dilate // 2)
        elif m.kernel_size == (3, 3):
            m.dilation = m.padding = (dilate, dilate)


class ResnetDilated(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)
        self.bn1 = bn(64)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(64, 64, 3, padding=1, bias=False)
        self.bn2 = bn(64)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)
        self.bn3 = bn(128)
        self.relu3 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = make_stage(128, 64, layers[0], 1)
        self.layer2 = make_stage(256, 128, layers[1], 2)
        self.layer3 = make_stage(512, 256, layers[2], 2)
        self.layer4 = make_stage(1024, 512, layers[3], 2)
        dilate_in_place(self.layer3, 2)
        dilate_in_place(self.layer4, 4)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.maxpool(x)
        outs = []
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
            outs.append(x)
        return outs


# ---------------------------------------------------------------- decoder ppm_bilinear_deepsup

def conv3x3_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), bn(cout), nn.ReLU(inplace=True))


class PPMBilinearDeepsup(nn.Module):
    def __init__(self, num_class=NUM_CLASSES, fc_dim=2048, pool_scales=(1, 2, 3, 6)):
        super().__init__()
        self.ppm = nn.ModuleList([
            nn.Sequential(nn.AdaptiveAvgPool2d(s), nn.Conv2d(fc_dim, 512, 1, bias=False), bn(512),
                          nn.ReLU(inplace=True)) for s in pool_scales])
        self.cbr_deepsup = conv3x3_bn_relu(fc_dim // 2, fc_dim // 4)
        self.conv_last = nn.Sequential(
            nn.Conv2d(fc_dim + len(pool_scales) * 512, 512, 3, padding=1, bias=False), bn(512),
            nn.ReLU(inplace=True), nn.Dropout2d(0.1), nn.Conv2d(512, num_class, 1))
        self.conv_last_deepsup = nn.Conv2d(fc_dim // 4, num_class, 1)
        self.dropout_deepsup = nn.Dropout2d(0.1)

    def forward(self, feats, seg_size=None):
        conv5 = feats[-1]
        size = conv5.shape[2:]
        pyramid = [conv5] + [F.interpolate(b(conv5), size, mode='bilinear', align_corners=False) for b in self.ppm]
        x = self.conv_last(torch.cat(pyramid, 1))
        if seg_size is not None:
            return F.softmax(F.interpolate(x, seg_size, mode='bilinear', align_corners=False), dim=1)
        d = self.conv_last_deepsup(self.dropout_deepsup(self.cbr_deepsup(feats[-2])))
        return F.log_softmax(x, dim=1), F.log_softmax(d, dim=1)


class SegmentationModule(nn.Module):
    """encoder + decoder; training returns (log_softmax main, log_softmax deepsup) at 1/8."""

    def __init__(self, num_class=NUM_CLASSES):
        super().__init__()
        self.encoder = ResnetDilated()
        self.decoder = PPMBilinearDeepsup(num_class)

    def forward(self, x, seg_size=None):
        return self.decoder(self.encoder(x), seg_size)


# ---------------------------------------------------------------- drn_d_22 + DRNSeg (fyu/drn)

class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=(1, 1), residual=True):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation[0], dilation=dilation[0], bias=False)
        self.bn1 = bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation[1], dilation=dilation[1], bias=False)
        self.bn2 = bn(planes)
        self.downsample = downsample
        self.residual = residual

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class DRN(nn.Module):
    """Arch D; children in the order fyu/drn registers them (layer0..layer8, avgpool, fc)."""

    def __init__(self, layers=(1, 1, 2, 2, 2, 2, 1, 1), channels=(16, 32, 64, 128, 256, 512, 512, 512)):
        super().__init__()
        self.inplanes = channels[0]
        self.layer0 = nn.Sequential(nn.Conv2d(3, channels[0], 7, padding=3, bias=False), bn(channels[0]),
                                    nn.ReLU(inplace=True))
        self.layer1 = self._convs(channels[0], layers[0], 1, 1)
        self.layer2 = self._convs(channels[1], layers[1], 2, 1)
        self.layer3 = self._blocks(channels[2], layers[2], 2, 1, True)
        self.layer4 = self._blocks(channels[3], layers[3], 2, 1, True)
        self.layer5 = self._blocks(channels[4], layers[4], 1, 2, False)
        self.layer6 = self._blocks(channels[5], layers[5], 1, 4, False)
        self.layer7 = self._convs(channels[6], layers[6], 1, 2)
        self.layer8 = self._convs(channels[7], layers[7], 1, 1)
        self.avgpool = nn.AvgPool2d(28)
        self.fc = nn.Conv2d(channels[-1], 1000, 1)
        self.out_dim = channels[-1]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))

    def _convs(self, channels, convs, stride, dilation):
        mods = []
        for i in range(convs):
            mods += [nn.Conv2d(self.inplanes, channels, 3, stride if i == 0 else 1, padding=dilation,
                               dilation=dilation, bias=False), bn(channels), nn.ReLU(inplace=True)]
            self.inplanes = channels
        return nn.Sequential(*mods)

    def _blocks(self, planes, blocks, stride, dilation, new_level):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), bn(planes))
        first = (1, 1) if dilation == 1 else (dilation // 2 if new_level else dilation, dilation)
        mods = [BasicBlock(self.inplanes, planes, stride, downsample, first)]
        self.inplanes = planes
        mods += [BasicBlock(planes, planes, dilation=(dilation, dilation)) for _ in range(1, blocks)]
        return nn.Sequential(*mods)


def bilinear_kernel(classes, size):
    f = math.ceil(size / 2)
    c = (2 * f - 1 - f % 2) / (2. * f)
    k = torch.zeros(size, size)
    for i in range(size):
        for j in range(size):
            k[i, j] = (1 - math.fabs(i / f - c)) * (1 - math.fabs(j / f - c))
    return k.expand(classes, 1, size, size).clone()


class DRNSeg(nn.Module):
    """base (DRN without avgpool/fc), seg, up; training returns log_softmax at 1/8 like the 3D-SDN model."""

    def __init__(self, classes=NUM_CLASSES):
        super().__init__()
        model = DRN()
        self.base = nn.Sequential(*list(model.children())[:-2])
        self.seg = nn.Conv2d(model.out_dim, classes, 1, bias=True)
        n = classes
        self.seg.weight.data.normal_(0, math.sqrt(2. / n))
        self.seg.bias.data.zero_()
        self.softmax = nn.LogSoftmax(dim=1)
        self.up = nn.ConvTranspose2d(classes, classes, 16, stride=8, padding=4, groups=classes, bias=False)
        self.up.weight.data.copy_(bilinear_kernel(classes, 16))
        self.up.weight.requires_grad = False

    def forward(self, x, seg_size=None):
        x = self.seg(self.base(x))
        if seg_size is None:
            return self.softmax(x), None
        y = self.up(x)
        if tuple(y.shape[2:]) != tuple(seg_size):
            y = F.interpolate(y, seg_size, mode='bilinear', align_corners=False)
        return F.softmax(y, dim=1)


MODELS = {'resnet50dilated8_ppm_deepsup': SegmentationModule, 'drn_d_22': DRNSeg}


def build(name, classes):
    global BN
    BN = OriginalSyncBN if name == 'resnet50dilated8_ppm_deepsup' else nn.BatchNorm2d
    try:
        return MODELS[name](classes)
    finally:
        BN = nn.BatchNorm2d


def cmd_params(args):
    model = build(args.model, args.classes)
    for name, t in model.state_dict().items():
        print('%s [%s]' % (name, ','.join(str(d) for d in t.shape)))


def cmd_count(args):
    model = build(args.model, args.classes)
    sd = model.state_dict()
    print(json.dumps({
        'model': args.model,
        'parameters': sum(p.numel() for p in model.parameters()),
        'state_dict_entries': len(sd),
        'entries_without_num_batches_tracked': sum(1 for k in sd if not k.endswith('num_batches_tracked'))}))


def load_sdn_weights(model, path):
    """Loads an sdn weights file (HDF5 from `sdn weights export`) into the reference model, strictly."""
    import h5py
    import numpy as np
    with h5py.File(path, 'r') as f:
        state = {k: torch.tensor(np.asarray(ds[()])) for k, ds in f.items()}
    model.load_state_dict(state, strict=True)


def cmd_forward(args):
    """Eval-mode outputs for an input, to compare with the C++ model: main/deepsup at 1/8, probs at --size."""
    import h5py
    import numpy as np
    torch.set_num_threads(args.threads)
    model = build(args.model, args.classes)
    load_sdn_weights(model, args.weights)
    model.eval()
    with h5py.File(args.input, 'r') as f:
        x = torch.tensor(np.asarray(f['x'][()]))
    with torch.no_grad():
        main, deepsup = model(x)
        probs = model(x, tuple(args.size))
    with h5py.File(args.output, 'w') as f:
        f['main'] = main.numpy()
        if deepsup is not None:
            f['deepsup'] = deepsup.numpy()
        f['probs'] = probs.numpy()


def cmd_bnstats(args):
    """The original BatchNorm over k training steps: input datasets x0..x{k-1} (N x C x H x W), weight, bias
    and x_eval; writes y0.., the buffers after the last step and the eval output."""
    import h5py
    import numpy as np
    with h5py.File(args.input, 'r') as f:
        get = lambda k: torch.tensor(np.asarray(f[k][()]))
        weight, bias = get('weight'), get('bias')
        steps = sorted((k for k in f if k.startswith('x') and k[1:].isdigit()), key=lambda k: int(k[1:]))
        xs = [get(k) for k in steps]
        x_eval = get('x_eval')
    layer = OriginalSyncBN(weight.numel())
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    layer.train()
    with h5py.File(args.output, 'w') as f:
        for i, x in enumerate(xs):
            x = x.clone().requires_grad_(True)
            y = layer(x)
            (y * y).sum().backward()
            f['y%d' % i] = y.detach().numpy()
            f['dx%d' % i] = x.grad.numpy()
        for k, v in layer.state_dict().items():
            f[k] = v.numpy()
        layer.eval()
        with torch.no_grad():
            f['y_eval'] = layer(x_eval).numpy()


def cmd_load_pth(args):
    """Loads .pth files into the reference model with strict=True (exit 1 naming the keys if they do not fit)."""
    model = build(args.model, args.classes)
    parts = [(model, args.state)] if args.state else [(model.encoder, args.encoder), (model.decoder, args.decoder)]
    for module, path in parts:
        try:
            module.load_state_dict(torch.load(path, map_location='cpu'), strict=True)
        except RuntimeError as e:
            sys.exit('load-pth: %s: %s' % (path, e))
    print('load-pth: %s loads strictly (%d entries)' % (args.model, len(model.state_dict())))


def cmd_step(args):
    """Seconds per SGD training step (forward, loss as the original, backward, update) on random data."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = build(args.model, args.classes).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9,
                          weight_decay=1e-4)
    x = torch.randn(args.batch, 3, args.height, args.width)
    labels = torch.randint(-1, args.classes - 1, (args.batch, args.height // 8, args.width // 8))
    crit = nn.NLLLoss(ignore_index=-1)
    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        main, deepsup = model(x)
        loss = crit(main, labels)
        if deepsup is not None:
            loss = loss + 0.4 * crit(deepsup, labels)
        loss.backward()
        opt.step()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({'impl': 'python', 'torch': torch.__version__, 'model': args.model, 'batch': args.batch,
                      'height': args.height, 'width': args.width, 'threads': args.threads, 'steps': args.steps,
                      'median_s': times[len(times) // 2], 'min_s': times[0],
                      'per_image_s': times[len(times) // 2] / args.batch}))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    for name, fn in (('params', cmd_params), ('count', cmd_count)):
        s = sub.add_parser(name)
        s.add_argument('model', choices=sorted(MODELS))
        s.add_argument('--classes', type=int, default=NUM_CLASSES)
        s.set_defaults(fn=fn)
    s = sub.add_parser('forward')
    s.add_argument('model', choices=sorted(MODELS))
    s.add_argument('--classes', type=int, default=NUM_CLASSES)
    s.add_argument('--weights', required=True, help='sdn weights file (HDF5)')
    s.add_argument('--input', required=True, help="HDF5 file with dataset 'x' (N x 3 x H x W float32)")
    s.add_argument('--output', required=True, help='HDF5 file to write main, deepsup, probs')
    s.add_argument('--size', type=int, nargs=2, required=True, metavar=('H', 'W'))
    s.add_argument('--threads', type=int, default=1)
    s.set_defaults(fn=cmd_forward)
    s = sub.add_parser('bnstats')
    s.add_argument('--input', required=True)
    s.add_argument('--output', required=True)
    s.set_defaults(fn=cmd_bnstats)
    s = sub.add_parser('load-pth')
    s.add_argument('model', choices=sorted(MODELS))
    s.add_argument('--classes', type=int, default=NUM_CLASSES)
    s.add_argument('--state', help='one state_dict .pth of the whole model')
    s.add_argument('--encoder', help='encoder .pth (with --decoder)')
    s.add_argument('--decoder', help='decoder .pth')
    s.set_defaults(fn=cmd_load_pth)
    s = sub.add_parser('step')
    s.add_argument('--model', choices=sorted(MODELS), default='resnet50dilated8_ppm_deepsup')
    s.add_argument('--classes', type=int, default=NUM_CLASSES)
    s.add_argument('--batch', type=int, default=2)
    s.add_argument('--height', type=int, default=152)
    s.add_argument('--width', type=int, default=496)
    s.add_argument('--threads', type=int, default=2)
    s.add_argument('--steps', type=int, default=5)
    s.add_argument('--warmup', type=int, default=1)
    s.add_argument('--seed', type=int, default=304)
    s.set_defaults(fn=cmd_step)
    args = p.parse_args(argv)
    if args.cmd == 'step' and (args.height % 8 or args.width % 8):
        p.error('--height and --width must be multiples of 8')
    args.fn(args)


if __name__ == '__main__':
    main(sys.argv[1:])

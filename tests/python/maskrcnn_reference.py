#!/usr/bin/python3
"""A plain-PyTorch transcription of the 3D-SDN Mask R-CNN modules (ysymyth/3D-SDN geometric/maskrcnn/model.py,
itself multimodallearning/pytorch-mask-rcnn), written from the original's definitions for cross-checks only.

  maskrcnn_reference.py params [--classes 3]
      one "name [shape]" line per state_dict entry (torch 1.x order, num_batches_tracked included):
      the golden list tests/golden/maskrcnn.params.txt
  maskrcnn_reference.py forward --weights W.h5 --input X.h5 --output Y.h5
      eval-mode FPN outputs P2..P6 and RPN logits/deltas of the image in X.h5 ("x", [1,3,S,S]) with the
      weights of an sdn weights file; written as datasets p2..p6, rpn_logits, rpn_bbox
  maskrcnn_reference.py heads --weights W.h5 --input X.h5 --output Y.h5
      eval-mode proposals (proposal layer, --count of them), and the classifier (logits, deltas) and mask head
      (masks) on them, with the original's NMS and pyramid RoIAlign transcribed
  maskrcnn_reference.py pth --out M.pth
      a state_dict as the released torch 0.3-era files hold it (no num_batches_tracked), entry i (in order)
      filled with i / 1000 (running_var: 1 + i / 1000), for the scripts/pth_to_h5.py import test
  maskrcnn_reference.py crop --input X.h5 --output Y.h5
      the original CPU crop_and_resize loop (crop_and_resize.c) on datasets image, boxes, box_ind, size
"""
import argparse
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SamePad2d(nn.Module):
    def __init__(self, kernel_size, stride):
        super().__init__()
        self.k, self.s = kernel_size, stride

    def forward(self, x):
        # as SamePad2d: the amount computed from dim 2 (height) pads the width, and vice versa
        a, b = x.size(2), x.size(3)
        pa = (math.ceil(a / self.s) - 1) * self.s + self.k - a
        pb = (math.ceil(b / self.s) - 1) * self.s + self.k - b
        return F.pad(x, (pa // 2, pa - pa // 2, pb // 2, pb - pb // 2))


def bn(c):
    return nn.BatchNorm2d(c, eps=0.001)


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride=stride)
        self.bn1 = bn(planes)
        self.padding2 = SamePad2d(3, 1)
        self.conv2 = nn.Conv2d(planes, planes, 3)
        self.bn2 = bn(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1)
        self.bn3 = bn(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(self.padding2(out))))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


def make_layer(inplanes, planes, blocks, stride):
    ds = None
    if stride != 1 or inplanes != planes * 4:
        ds = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride), bn(planes * 4))
    layers = [Bottleneck(inplanes, planes, stride, ds)] + [Bottleneck(planes * 4, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class FPN(nn.Module):
    def __init__(self, depths=(3, 4, 23, 3)):
        super().__init__()
        self.C1 = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), bn(64), nn.ReLU(), SamePad2d(3, 2),
                                nn.MaxPool2d(3, 2))
        self.C2 = make_layer(64, 64, depths[0], 1)
        self.C3 = make_layer(256, 128, depths[1], 2)
        self.C4 = make_layer(512, 256, depths[2], 2)
        self.C5 = make_layer(1024, 512, depths[3], 2)
        self.P6 = nn.MaxPool2d(kernel_size=1, stride=2)
        for lvl, cin in ((5, 2048), (4, 1024), (3, 512), (2, 256)):
            setattr(self, 'P%d_conv1' % lvl, nn.Conv2d(cin, 256, 1))
            setattr(self, 'P%d_conv2' % lvl, nn.Sequential(SamePad2d(3, 1), nn.Conv2d(256, 256, 3)))

    def forward(self, x):
        c2 = self.C2(self.C1(x))
        c3 = self.C3(c2)
        c4 = self.C4(c3)
        c5 = self.C5(c4)
        p5 = self.P5_conv1(c5)
        p4 = self.P4_conv1(c4) + F.interpolate(p5, scale_factor=2, mode='nearest')
        p3 = self.P3_conv1(c3) + F.interpolate(p4, scale_factor=2, mode='nearest')
        p2 = self.P2_conv1(c2) + F.interpolate(p3, scale_factor=2, mode='nearest')
        p5, p4, p3, p2 = self.P5_conv2(p5), self.P4_conv2(p4), self.P3_conv2(p3), self.P2_conv2(p2)
        return [p2, p3, p4, p5, self.P6(p5)]


class RPN(nn.Module):
    def __init__(self, anchors=3, depth=256):
        super().__init__()
        self.padding = SamePad2d(3, 1)
        self.conv_shared = nn.Conv2d(depth, 512, 3)
        self.conv_class = nn.Conv2d(512, 2 * anchors, 1)
        self.conv_bbox = nn.Conv2d(512, 4 * anchors, 1)

    def forward(self, x):
        x = F.relu(self.conv_shared(self.padding(x)))
        logits = self.conv_class(x).permute(0, 2, 3, 1).contiguous().view(x.size(0), -1, 2)
        bbox = self.conv_bbox(x).permute(0, 2, 3, 1).contiguous().view(x.size(0), -1, 4)
        return logits, bbox


class Classifier(nn.Module):
    def __init__(self, classes, depth=256, pool=7):
        super().__init__()
        self.conv1 = nn.Conv2d(depth, 1024, pool)
        self.bn1 = bn(1024)
        self.conv2 = nn.Conv2d(1024, 1024, 1)
        self.bn2 = bn(1024)
        self.linear_class = nn.Linear(1024, classes)
        self.linear_bbox = nn.Linear(1024, classes * 4)


class Mask(nn.Module):
    def __init__(self, classes, depth=256):
        super().__init__()
        self.conv1 = nn.Conv2d(depth, 256, 3)
        self.bn1 = bn(256)
        self.conv2 = nn.Conv2d(256, 256, 3)
        self.bn2 = bn(256)
        self.conv3 = nn.Conv2d(256, 256, 3)
        self.bn3 = bn(256)
        self.conv4 = nn.Conv2d(256, 256, 3)
        self.bn4 = bn(256)
        self.deconv = nn.ConvTranspose2d(256, 256, 2, stride=2)
        self.conv5 = nn.Conv2d(256, classes, 1)


def classifier_forward(c, x):
    x = F.relu(c.bn1(c.conv1(x)))
    x = F.relu(c.bn2(c.conv2(x))).view(-1, 1024)
    return c.linear_class(x), c.linear_bbox(x).view(x.size(0), -1, 4)


def mask_forward(m, x):
    pad = SamePad2d(3, 1)
    for conv, norm in ((m.conv1, m.bn1), (m.conv2, m.bn2), (m.conv3, m.bn3), (m.conv4, m.bn4)):
        x = F.relu(norm(conv(pad(x))))
    return torch.sigmoid(m.conv5(F.relu(m.deconv(x))))


def generate_anchors(size, scales=(32, 64, 128, 256, 512), ratios=(0.5, 1, 2), strides=(4, 8, 16, 32, 64)):
    out = []
    for scale, stride in zip(scales, strides):
        n = int(math.ceil(size / stride))
        for y in range(n):
            for x in range(n):
                for r in ratios:
                    h, w = scale / math.sqrt(r), scale * math.sqrt(r)
                    out.append([y * stride - h / 2, x * stride - w / 2, y * stride + h / 2, x * stride + w / 2])
    return torch.tensor(out, dtype=torch.float64).float()


def nms(boxes, scores, thr):
    """nms_kernel.cu: +1 pixel areas, suppression when IoU > thr, greedy in descending score order; float32
    arithmetic in devIoU's order."""
    order = scores.sort(descending=True)[1]
    b = boxes[order].float()
    n = b.size(0)
    removed = torch.zeros(n, dtype=torch.bool)
    keep = []
    one = torch.tensor(1.0)
    for i in range(n):
        if removed[i]:
            continue
        keep.append(int(order[i]))
        top, left = torch.max(b[i, 0], b[:, 0]), torch.max(b[i, 1], b[:, 1])
        bottom, right = torch.min(b[i, 2], b[:, 2]), torch.min(b[i, 3], b[:, 3])
        inter = (bottom - top + one).clamp(min=0) * (right - left + one).clamp(min=0)
        sa = (b[i, 2] - b[i, 0] + one) * (b[i, 3] - b[i, 1] + one)
        sb = (b[:, 2] - b[:, 0] + one) * (b[:, 3] - b[:, 1] + one)
        over = inter / (sa + sb - inter) > thr
        over[:i + 1] = False
        removed |= over
    return torch.tensor(keep, dtype=torch.long)


def proposal_layer(probs, deltas, anchors, count, size, limit=6000, thr=0.7):
    scores = probs[:, 1]
    deltas = deltas * torch.tensor([[0.1, 0.1, 0.2, 0.2]])
    scores, order = scores.sort(descending=True)
    order, scores = order[:min(limit, anchors.size(0))], scores[:min(limit, anchors.size(0))]
    a, d = anchors[order], deltas[order]
    h, w = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    cy, cx = a[:, 0] + 0.5 * h + d[:, 0] * h, a[:, 1] + 0.5 * w + d[:, 1] * w
    h, w = h * torch.exp(d[:, 2]), w * torch.exp(d[:, 3])
    y1, x1 = cy - 0.5 * h, cx - 0.5 * w
    boxes = torch.stack([y1, x1, y1 + h, x1 + w], 1).clamp(0, size)
    keep = nms(boxes, scores, thr)[:count]
    return boxes[keep] / size


def pyramid_roi_align(feats, boxes, pool, size):
    h, w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    level = (4 + torch.log2(torch.sqrt(h * w) / (224.0 / math.sqrt(size * size)))).round().int().clamp(2, 5)
    out = torch.zeros(boxes.size(0), feats[0].size(1), pool, pool)
    for i in range(boxes.size(0)):
        out[i] = crop_and_resize(feats[int(level[i]) - 2], boxes[i:i + 1], [0], pool, pool)[0]
    return out


class MaskRCNN(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.fpn = FPN()
        self.rpn = RPN()
        self.classifier = Classifier(classes)
        self.mask = Mask(classes)


def crop_and_resize(image, boxes, box_ind, ch, cw, extrapolation=0.0):
    """crop_and_resize.c, loop for loop (float32 arithmetic as in C)."""
    n, depth, h, w = boxes.size(0), image.size(1), image.size(2), image.size(3)
    out = torch.zeros(n, depth, ch, cw)
    f = lambda v: torch.tensor(v, dtype=torch.float32)
    for b in range(n):
        y1, x1, y2, x2 = [f(float(v)) for v in boxes[b]]
        hs = (y2 - y1) * (h - 1) / (ch - 1) if ch > 1 else f(0.0)
        ws = (x2 - x1) * (w - 1) / (cw - 1) if cw > 1 else f(0.0)
        img = image[int(box_ind[b])]
        for y in range(ch):
            in_y = y1 * (h - 1) + y * hs if ch > 1 else 0.5 * (y1 + y2) * (h - 1)
            if in_y < 0 or in_y > h - 1:
                out[b, :, y, :] = extrapolation
                continue
            top, bottom = int(math.floor(in_y)), int(math.ceil(in_y))
            ly = in_y - top
            for x in range(cw):
                in_x = x1 * (w - 1) + x * ws if cw > 1 else 0.5 * (x1 + x2) * (w - 1)
                if in_x < 0 or in_x > w - 1:
                    out[b, :, y, x] = extrapolation
                    continue
                left, right = int(math.floor(in_x)), int(math.ceil(in_x))
                lx = in_x - left
                t = img[:, top, left] + (img[:, top, right] - img[:, top, left]) * lx
                bo = img[:, bottom, left] + (img[:, bottom, right] - img[:, bottom, left]) * lx
                out[b, :, y, x] = t + (bo - t) * ly
    return out


def read_h5(path):
    import h5py
    import numpy as np
    with h5py.File(path, 'r') as f:
        return {k: torch.tensor(np.asarray(ds[()])) for k, ds in f.items()}


def write_h5(path, tensors):
    import h5py
    with h5py.File(path, 'w') as f:
        for k, v in tensors.items():
            f.create_dataset(k, data=v.detach().float().numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('command', choices=['params', 'forward', 'heads', 'crop', 'pth'])
    ap.add_argument('--out')
    ap.add_argument('--count', type=int, default=1000, help='heads: post-NMS proposals')
    ap.add_argument('--classes', type=int, default=3)
    ap.add_argument('--weights')
    ap.add_argument('--input')
    ap.add_argument('--output')
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    if a.command == 'params':
        m = MaskRCNN(a.classes)
        for k, v in m.state_dict().items():
            print('%s [%s]' % (k, ','.join(str(d) for d in v.shape)))
        return 0
    if a.command == 'pth':
        import collections
        state = collections.OrderedDict()
        kept = [(k, v) for k, v in MaskRCNN(a.classes).state_dict().items() if not k.endswith('num_batches_tracked')]
        for i, (k, v) in enumerate(kept):
            state[k] = torch.full_like(v, (1.0 if k.endswith('running_var') else 0.0) + i / 1000.0)
        torch.save(state, a.out)
        return 0
    if a.command == 'crop':
        t = read_h5(a.input)
        size = [int(v) for v in t['size'].tolist()]
        write_h5(a.output, {'crops': crop_and_resize(t['image'].float(), t['boxes'].float(), t['box_ind'],
                                                      size[0], size[1])})
        return 0
    m = MaskRCNN(a.classes)
    w = read_h5(a.weights)
    m.load_state_dict({k: w[k].to(v.dtype) for k, v in m.state_dict().items()})
    m.eval()
    if a.command == 'heads':
        x = read_h5(a.input)['x'].float()
        ps = m.fpn(x)
        logits, bbox = zip(*[m.rpn(p) for p in ps])
        probs = torch.cat(logits, 1)[0].softmax(1)
        size = x.size(2)
        rois = proposal_layer(probs, torch.cat(bbox, 1)[0], generate_anchors(size), a.count, size)
        # the heads also run on the input's extra_rois (boxes of chosen sizes, so that every level is used)
        head_rois = torch.cat([rois, read_h5(a.input)['extra_rois'].float()])
        cl, cb = classifier_forward(m.classifier, pyramid_roi_align(ps[:4], head_rois, 7, size))
        masks = mask_forward(m.mask, pyramid_roi_align(ps[:4], head_rois, 14, size))
        write_h5(a.output, {'rois': rois, 'class_logits': cl, 'class_deltas': cb, 'masks': masks})
        return 0
    x = read_h5(a.input)['x'].float()
    ps = m.fpn(x)
    logits, bbox = zip(*[m.rpn(p) for p in ps])
    out = {'p%d' % (i + 2): p for i, p in enumerate(ps)}
    out['rpn_logits'] = torch.cat(logits, 1)
    out['rpn_bbox'] = torch.cat(bbox, 1)
    write_h5(a.output, out)
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""Python half of `sdn bench step` for the Mask R-CNN stage: the same training step in plain PyTorch.

The modules are tests/python/maskrcnn_reference.py's transcription of the original (ysymyth/3D-SDN
geometric/maskrcnn/model.py); the step around them is transcribed here from the original's training path
(vkitti.py load_image_gt / build_rpn_targets, model.py proposal_layer, detection_target_layer, pyramid RoIAlign,
the five losses, clip_grad_norm and SGD) with vectorised NMS and crop_and_resize (the original's are C/CUDA
extensions), so that it does what the C++ step does (src/train/stages/maskrcnn_stage.cpp loss(),
src/models/maskrcnn/*) on the same frames:
  per image: vehicle instances > min_pixels, resize/pad to the square, mini masks, RPN targets (a generator
  per sample); then zero_grad, the batched FPN + RPN, per image proposals and detection targets, both heads on
  every RoI, the five losses (mean over the batch), backward, gradient-norm clip, SGD (momentum, weight decay).
Every BN is frozen (eval statistics, no gradient); the trainable set is --layers (the schedule part's).
Frames: uniform random RGB and class ids 0..13 (as bench_train_step.cpp), plus the same fixed vehicle
rectangles (vehicle_rects below = bench_train_step.cpp's), so both sides see the same ground truth.

Protocol: as bench/semantic_step.py (ready line, "steps K" -> {"times": [...]}, "quit"); the ready line and
each reply also carry "peak_rss_mb" (this process's peak resident set so far).
--profile N: run N steps under torch.profiler and print the per-op table instead.

Run by hand:  /usr/bin/python3 bench/maskrcnn_step.py --height 376 --width 1240 --threads 2  (then "steps 1")
"""
import argparse
import json
import math
import os
import re
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'python'))
import maskrcnn_reference as ref  # noqa: E402

CAR, VAN = 2, 12
MEAN_PIXEL = (123.7, 116.8, 103.9)
RPN_STD = (0.1, 0.1, 0.2, 0.2)
BBOX_STD = (0.1, 0.1, 0.2, 0.2)
HEADS = r"(fpn.P5\_.*)|(fpn.P4\_.*)|(fpn.P3\_.*)|(fpn.P2\_.*)|(rpn.*)|(classifier.*)|(mask.*)"
LAYERS = {'heads': HEADS, 'transfer': HEADS, '3+': r"(fpn.C3.*)|(fpn.C4.*)|(fpn.C5.*)|" + HEADS,
          '4+': r"(fpn.C4.*)|(fpn.C5.*)|" + HEADS, '5+': r"(fpn.C5.*)|" + HEADS, 'all': r".*"}


def vehicle_rects(index, width, height):
    """The benchmark's vehicles of frame `index`: (class, y0, x0, y1, x1), bench_train_step.cpp's formula: a grid
    of up to 100 squares of width / 31 pixels (40 at 1240), so that even the untrained RPN's proposals hit some
    (~90 RoIs per image at 1240x376 into 1024^2, where an untrained model with six vehicles sees ~3)."""
    cell = max(8, width // 31)
    step = cell + cell // 5
    out = []
    for y0 in range(0, height - cell + 1, step):
        for x0 in range((index * 7) % step, width - cell + 1, step):
            if len(out) < 100:
                out.append((VAN if len(out) % 3 == 2 else CAR, y0, x0, y0 + cell, x0 + cell))
    return out


def hashed(index, height, width, channel, modulo):
    """bench_train_step.cpp's pixel hash (uint32 arithmetic), so both sides get the same frames bit for bit."""
    y = torch.arange(height, dtype=torch.int64).view(-1, 1)
    x = torch.arange(width, dtype=torch.int64).view(1, -1)
    m = 0xffffffff
    h = ((x * 73856093) & m) ^ ((y * 19349663) & m) ^ ((index * 83492791 + channel * 2654435761) & m)
    h = (h * 73244475) & m  # < 2^59: no int64 overflow
    return (h >> 13) % modulo


def make_frames(args):
    frames = []
    for i in range(args.batch):
        rgb = torch.stack([hashed(i, args.height, args.width, c, 256) for c in range(3)], 2).to(torch.uint8)
        classes = hashed(i, args.height, args.width, 3, 14).to(torch.uint8)
        instance = torch.zeros(args.height, args.width, dtype=torch.int32)
        for k, (c, y0, x0, y1, x1) in enumerate(vehicle_rects(i, args.width, args.height)):
            classes[y0:y1, x0:x1] = c
            instance[y0:y1, x0:x1] = k + 1
        frames.append((rgb, classes, instance))
    return frames


# ---- the loader's ground truth (vkitti.py load_mask, utils.py resize_image / minimize_mask, build_rpn_targets)

def vehicle_instances(classes, instance, min_pixels):
    keys = []
    for cls, code in ((1, CAR), (2, VAN)):
        sel = (classes == code) & (instance != 0)
        ids, counts = torch.unique(instance[sel], return_counts=True)
        keys += [(cls, int(i), code) for i, n in zip(ids.tolist(), counts.tolist()) if n > min_pixels]
    masks = torch.stack([(instance == i) & (classes == code) for _, i, code in keys]).to(torch.uint8) if keys else \
        torch.zeros(0, *classes.shape, dtype=torch.uint8)
    return torch.tensor([k[0] for k in keys], dtype=torch.long), masks


def plan_resize(h, w, o):
    scale = max(1.0, o.image_min_dim / min(h, w))
    if round(max(h, w) * scale) > o.image_size:
        scale = o.image_size / max(h, w)
    rh, rw = round(h * scale), round(w * scale)
    top, left = (o.image_size - rh) // 2, (o.image_size - rw) // 2
    return scale, rh, rw, top, left


def zoom_index(n_in, n_out):
    step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return (torch.arange(n_out, dtype=torch.float64) * step).round().clamp(0, n_in - 1).long()


def mold(rgb, masks, o):
    h, w = rgb.shape[:2]
    scale, rh, rw, top, left = plan_resize(h, w, o)
    s = o.image_size
    x = rgb.permute(2, 0, 1).unsqueeze(0).float()
    if (rh, rw) != (h, w):
        x = F.interpolate(x, size=(rh, rw), mode='bilinear', align_corners=False, antialias=scale < 1).round().clamp(0, 255)
    image = torch.zeros(1, 3, s, s)
    image[:, :, top:top + rh, left:left + rw] = x
    image = (image - torch.tensor(MEAN_PIXEL).view(1, 3, 1, 1)).squeeze(0)
    zoomed = masks.index_select(1, zoom_index(h, rh)).index_select(2, zoom_index(w, rw))
    molded = torch.zeros(masks.size(0), s, s, dtype=torch.uint8)
    molded[:, top:top + rh, left:left + rw] = zoomed
    return image, molded


def extract_bboxes(masks):
    boxes = torch.zeros(masks.size(0), 4, dtype=torch.long)
    for i, m in enumerate(masks):
        rows, cols = m.any(1).nonzero(), m.any(0).nonzero()
        if rows.numel():
            boxes[i] = torch.tensor([rows[0, 0], cols[0, 0], rows[-1, 0] + 1, cols[-1, 0] + 1])
    return boxes


def minimize_masks(masks, boxes, shape=(56, 56)):
    out = torch.zeros(masks.size(0), *shape)
    for i, (y1, x1, y2, x2) in enumerate(boxes.tolist()):
        crop = masks[i, y1:y2, x1:x2].float().view(1, 1, y2 - y1, x2 - x1)
        r = F.interpolate(crop, size=shape, mode='bilinear', align_corners=False,
                          antialias=y2 - y1 > shape[0] or x2 - x1 > shape[1])
        out[i] = (r.view(*shape) >= 0.5).float()
    return out


def box_iou(b1, b2):
    a, b = b1.unsqueeze(1), b2.unsqueeze(0)
    inter = (torch.min(a[..., 3], b[..., 3]) - torch.max(a[..., 1], b[..., 1])).clamp(min=0) * \
            (torch.min(a[..., 2], b[..., 2]) - torch.max(a[..., 0], b[..., 0])).clamp(min=0)
    area1 = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area2 = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area1 + area2 - inter)


def box_refinement(box, gt):
    h, w = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    gh, gw = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    return torch.stack([(gt[:, 0] + 0.5 * gh - box[:, 0] - 0.5 * h) / h, (gt[:, 1] + 0.5 * gw - box[:, 1] - 0.5 * w) / w,
                        torch.log(gh / h), torch.log(gw / w)], 1)


def rpn_targets(anchors, gt_boxes, o, gen):
    a = anchors.double()
    match = torch.zeros(a.size(0), dtype=torch.long)
    deltas = torch.zeros(o.rpn_anchors, 4)
    gt = gt_boxes.double()
    overlaps = box_iou(a, gt)
    iou_max, argmax = overlaps.max(1)
    match[iou_max < 0.3] = -1
    match[overlaps.argmax(0)] = 1
    match[iou_max >= 0.7] = 1
    pos = (match == 1).nonzero()[:, 0]
    extra = pos.size(0) - o.rpn_anchors // 2
    if extra > 0:
        match[pos[torch.randperm(pos.size(0), generator=gen)[:extra]]] = 0
    neg = (match == -1).nonzero()[:, 0]
    extra = neg.size(0) - (o.rpn_anchors - int((match == 1).sum()))
    if extra > 0:
        match[neg[torch.randperm(neg.size(0), generator=gen)[:extra]]] = 0
    pos = (match == 1).nonzero()[:, 0]
    d = box_refinement(a[pos], gt[argmax[pos]]) / torch.tensor(RPN_STD, dtype=torch.float64)
    deltas[:pos.size(0)] = d.float()
    return match, deltas


def training_sample(frame, o, anchors, gen):
    rgb, classes, instance = frame
    class_ids, masks = vehicle_instances(classes, instance, o.min_pixels)
    image, masks = mold(rgb, masks, o)
    boxes = extract_bboxes(masks)
    alive = ((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).nonzero()[:, 0]
    boxes, masks, class_ids = boxes[alive], masks[alive], class_ids[alive]
    if boxes.size(0) > o.max_gt:
        pick = torch.randperm(boxes.size(0), generator=gen)[:o.max_gt].sort()[0]
        boxes, masks, class_ids = boxes[pick], masks[pick], class_ids[pick]
    mini = minimize_masks(masks, boxes)
    match, deltas = rpn_targets(anchors, boxes.float(), o, gen)
    return image, (class_ids, boxes.float(), mini, match, deltas)


# ---- the model's training path (model.py), vectorised where the original calls C/CUDA extensions

def nms(boxes, scores, thr):
    """nms_kernel.cu's rule (+1 pixel IoU, suppress when > thr) as the CUDA original splits it: all pairs on the
    device, the greedy scan over the overlap matrix on the host."""
    order = scores.sort(descending=True, stable=True)[1]
    b = boxes[order]
    a1, a2 = b.unsqueeze(1), b.unsqueeze(0)
    h = (torch.min(a1[..., 2], a2[..., 2]) - torch.max(a1[..., 0], a2[..., 0]) + 1).clamp(min=0)
    w = (torch.min(a1[..., 3], a2[..., 3]) - torch.max(a1[..., 1], a2[..., 1]) + 1).clamp(min=0)
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    inter = h * w
    over = (inter / (area.unsqueeze(1) + area.unsqueeze(0) - inter) > thr).numpy()
    removed = np.zeros(b.size(0), dtype=bool)
    keep = []
    for i in range(b.size(0)):
        if removed[i]:
            continue
        keep.append(i)
        removed[i + 1:] |= over[i, i + 1:]
    return order[torch.tensor(keep, dtype=torch.long)]


def apply_deltas(boxes, d):
    h, w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cy, cx = boxes[:, 0] + 0.5 * h + d[:, 0] * h, boxes[:, 1] + 0.5 * w + d[:, 1] * w
    h, w = h * torch.exp(d[:, 2]), w * torch.exp(d[:, 3])
    y1, x1 = cy - 0.5 * h, cx - 0.5 * w
    return torch.stack([y1, x1, y1 + h, x1 + w], 1)


def proposal_layer(fg, deltas, anchors, count, o):
    with torch.no_grad():
        d = deltas * torch.tensor([RPN_STD])
        limit = min(o.pre_nms, anchors.size(0))
        scores, order = fg.sort(descending=True, stable=True)
        scores, order = scores[:limit], order[:limit]
        s = float(o.image_size)
        boxes = apply_deltas(anchors[order], d[order]).clamp(0, s)
        return boxes[nms(boxes, scores, 0.7)[:count]] / s


def crop_and_resize(image, boxes, box_ind, ch, cw):
    """TF crop_and_resize ((H-1) mapping, extrapolation 0) as gathers from [B*H*W, C]; gradient to `image`."""
    n, c, h, w = boxes.size(0), image.size(1), image.size(2), image.size(3)
    with torch.no_grad():
        b = boxes.detach().float()

        def axis(a1, a2, size, crop):
            span = float(size - 1)
            pos = (a1 * span).unsqueeze(1) + torch.arange(crop).float().unsqueeze(0) * \
                ((a2 - a1) * span / (crop - 1)).unsqueeze(1)
            valid = (pos >= 0) & (pos <= span)
            safe = torch.where(valid, pos, torch.zeros_like(pos))
            lo = safe.floor()
            return lo.long(), safe.ceil().long(), safe - lo, valid

        ylo, yhi, ly, yv = axis(b[:, 0], b[:, 2], h, ch)
        xlo, xhi, lx, xv = axis(b[:, 1], b[:, 3], w, cw)
        base = (box_ind.long() * (h * w)).view(n, 1, 1)
        ly, lx = ly.unsqueeze(2), lx.unsqueeze(1)
        idx = [base + ylo.unsqueeze(2) * w + xlo.unsqueeze(1), base + ylo.unsqueeze(2) * w + xhi.unsqueeze(1),
               base + yhi.unsqueeze(2) * w + xlo.unsqueeze(1), base + yhi.unsqueeze(2) * w + xhi.unsqueeze(1)]
        wts = [(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx]
        valid = yv.unsqueeze(2) & xv.unsqueeze(1)
    flat = image.permute(0, 2, 3, 1).reshape(-1, c)
    out = None
    for i, wt in zip(idx, wts):
        term = flat.index_select(0, i.reshape(-1)).view(n, ch, cw, c) * wt.unsqueeze(3)
        out = term if out is None else out + term
    out = torch.where(valid.unsqueeze(3), out, torch.zeros((), dtype=out.dtype))
    return out.permute(0, 3, 1, 2).contiguous()


def pyramid_roi_align(feats, boxes, box_ind, pool, size):
    with torch.no_grad():
        h, w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        level = (4 + torch.log2(torch.sqrt(h * w) / (224.0 / math.sqrt(size * size)))).round().clamp(2, 5)
        level = torch.nan_to_num(level, 2).long()
    pooled, order = [], []
    for lv in range(2, 6):
        ix = (level == lv).nonzero()[:, 0]
        if ix.numel():
            pooled.append(crop_and_resize(feats[lv - 2], boxes[ix].detach(), box_ind[ix], pool, pool))
            order.append(ix)
    return torch.cat(pooled)[torch.cat(order).sort()[1]]


def detection_targets(proposals, class_ids, gt_boxes, gt_masks, o, gen):
    with torch.no_grad():
        overlaps = box_iou(proposals, gt_boxes)
        iou_max = overlaps.max(1)[0]
        pos = (iou_max >= 0.5).nonzero()[:, 0]
        if pos.numel() == 0:
            return None
        pos = pos[torch.randperm(pos.size(0), generator=gen)[:int(o.rois * 0.33)]]
        pos_rois = proposals[pos]
        assign = overlaps[pos].max(1)[1]
        roi_gt = gt_boxes[assign]
        deltas = box_refinement(pos_rois, roi_gt) / torch.tensor([BBOX_STD])
        gh, gw = roi_gt[:, 2] - roi_gt[:, 0], roi_gt[:, 3] - roi_gt[:, 1]
        frame = torch.stack([(pos_rois[:, 0] - roi_gt[:, 0]) / gh, (pos_rois[:, 1] - roi_gt[:, 1]) / gw,
                             (pos_rois[:, 2] - roi_gt[:, 0]) / gh, (pos_rois[:, 3] - roi_gt[:, 1]) / gw], 1)
        masks = crop_and_resize(gt_masks[assign].unsqueeze(1), frame, torch.arange(pos.size(0)), 28, 28).squeeze(1).round()
        neg = (iou_max < 0.5).nonzero()[:, 0]
        n_pos = pos.size(0)
        neg = neg[torch.randperm(neg.size(0), generator=gen)[:int(1 / 0.33 * n_pos - n_pos)]]
        n_neg = neg.size(0)
        return (torch.cat([pos_rois, proposals[neg]]), torch.cat([class_ids[assign], torch.zeros(n_neg, dtype=torch.long)]),
                torch.cat([deltas, torch.zeros(n_neg, 4)]), torch.cat([masks, torch.zeros(n_neg, 28, 28)]))


def losses(gt, logits, deltas, target, cls_logits, cls_deltas, masks):
    _, _, _, match, rpn_bbox = gt
    ix = (match != 0).nonzero()[:, 0]
    rpn_class = F.cross_entropy(logits[ix], (match[ix] == 1).long())
    pos = (match == 1).nonzero()[:, 0]
    pred = deltas[pos]
    rpn_box = F.smooth_l1_loss(pred, rpn_bbox[:pred.size(0)])
    if target is None:
        zero = torch.zeros(())
        return [rpn_class, rpn_box, zero, zero, zero]
    _, ids, tdeltas, tmasks = target
    pos = (ids > 0).nonzero()[:, 0]
    return [rpn_class, rpn_box, F.cross_entropy(cls_logits, ids),
            F.smooth_l1_loss(cls_deltas[pos, ids[pos]], tdeltas[pos]),
            F.binary_cross_entropy(masks[pos, ids[pos]], tmasks[pos])]


def anchors_of(o):
    out = []
    for scale, stride in zip(o.anchor_scales, (4, 8, 16, 32, 64)):
        n = int(math.ceil(o.image_size / stride))
        r = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
        h, w = scale / torch.sqrt(r), scale * torch.sqrt(r)
        y, x = torch.meshgrid(torch.arange(n, dtype=torch.float64) * stride, torch.arange(n, dtype=torch.float64) * stride,
                              indexing='ij')
        y, x = y.reshape(-1, 1), x.reshape(-1, 1)
        out.append(torch.stack([y - h / 2, x - w / 2, y + h / 2, x + w / 2], 2).reshape(-1, 4))
    return torch.cat(out).float()


def damp(model):
    """maskrcnn.bn_init = damped (maskrcnn_stage.cpp damp_batchnorms)."""
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                if name == 'fpn.C1.1':
                    m.weight.fill_(0.02)
                if name.endswith('.bn3'):
                    m.weight.fill_(0.2)
                if 'downsample.1' in name:
                    m.weight.fill_(0.5)


class Stepper:
    def __init__(self, args):
        torch.manual_seed(args.seed)
        self.o = args
        self.model = ref.MaskRCNN(3)
        self.model.fpn = ref.FPN((3, 4, 23, 3) if args.resnet == 101 else (3, 4, 6, 3))
        if args.weights:  # the C++ side's initial weights: same proposals, same RoI counts, same work
            w = ref.read_h5(args.weights)
            self.model.load_state_dict({k: w[k].to(v.dtype) for k, v in self.model.state_dict().items()})
        elif args.bn_init == 'damped':
            damp(self.model)
        self.model.train()
        bn_names = set()
        for name, m in self.model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()  # set_bn_eval + set_bn_fix: running statistics, no gradient
                for p in m.parameters():
                    p.requires_grad_(False)
                bn_names |= {name + '.weight', name + '.bias'}
        regex = re.compile(LAYERS.get(args.layers, args.layers).replace('\\_', '_'))
        fresh, rest = [], []
        for n, p in self.model.named_parameters():
            if n in bn_names:
                continue
            p.requires_grad_(bool(regex.fullmatch(n)))
            if p.requires_grad:
                p.grad = torch.zeros_like(p)  # the stage's begin_step: every trainable parameter has a gradient
                transfer = args.layers == 'transfer' and re.fullmatch(r"(mask.conv5.*)|(classifier.linear_class.*)|"
                                                                      r"(classifier.linear_bbox.*)", n)
                (fresh if transfer else rest).append(p)
        groups = ([{'params': fresh, 'lr': args.transfer_lr}] if fresh else []) + ([{'params': rest}] if rest else [])
        self.params = fresh + rest
        self.opt = torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
        self.anchors = anchors_of(args)
        self.frames = make_frames(args)
        self.step_index = 0
        self.last_rois = []

    def step(self):
        o, m = self.o, self.model
        t0 = time.perf_counter()
        images, gts = [], []
        for i, frame in enumerate(self.frames):
            gen = torch.Generator().manual_seed(o.seed * 1000003 + self.step_index * 131 + i)
            image, gt = training_sample(frame, o, self.anchors, gen)
            images.append(image)
            gts.append((gt, gen))
        self.opt.zero_grad(set_to_none=False)
        p = m.fpn(torch.stack(images))
        logits, bbox = zip(*[m.rpn(x) for x in p])
        logits, deltas = torch.cat(logits, 1), torch.cat(bbox, 1)
        probs = logits.softmax(2)
        targets, rois, ind = [], [], []
        for i, (gt, gen) in enumerate(gts):
            class_ids, boxes, mini, _, _ = gt
            proposals = proposal_layer(probs[i, :, 1], deltas[i], self.anchors, o.post_nms, o)
            t = detection_targets(proposals, class_ids, boxes / o.image_size, mini, o, gen)
            targets.append(t)
            if t is not None:
                rois.append(t[0])
                ind.append(torch.full((t[0].size(0),), i, dtype=torch.long))
        if rois:
            all_rois, all_ind, feats = torch.cat(rois), torch.cat(ind), p[:4]
            cl, cb = ref.classifier_forward(m.classifier, pyramid_roi_align(feats, all_rois, all_ind, 7, o.image_size))
            mk = ref.mask_forward(m.mask, pyramid_roi_align(feats, all_rois, all_ind, 14, o.image_size))
        self.last_rois = [t[0].size(0) if t is not None else 0 for t in targets]
        total, offset = None, 0
        for i, ((gt, _), t) in enumerate(zip(gts, targets)):
            r = t[0].size(0) if t is not None else 0
            parts = losses(gt, logits[i], deltas[i], t, cl[offset:offset + r] if r else None,
                           cb[offset:offset + r] if r else None, mk[offset:offset + r] if r else None)
            offset += r
            s = sum(parts)
            total = s if total is None else total + s
        total = total / len(gts)
        float(total)  # the stage reports every term as a number
        total.backward()
        nn.utils.clip_grad_norm_(self.params, o.clip)
        self.opt.step()
        self.step_index += 1
        return time.perf_counter() - t0


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='maskrcnn')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--height', type=int, default=376)
    p.add_argument('--width', type=int, default=1240)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--seed', type=int, default=304)
    p.add_argument('--device', default='cpu')
    p.add_argument('--profile', type=int, default=0)
    p.add_argument('--stage-config', dest='stage_config', default='',
                   help="the stage's resolved INI, passed to every Python half (the options here carry what it needs)")
    p.add_argument('--weights', default='', help='an sdn weights file (the C++ model at step 0) to start from')
    # The stage's [maskrcnn] keys (the C++ side passes its config's values).
    p.add_argument('--resnet', type=int, default=101, choices=(50, 101))
    p.add_argument('--image-size', dest='image_size', type=int, default=1024)
    p.add_argument('--image-min-dim', dest='image_min_dim', type=int, default=300)
    p.add_argument('--anchor-scales', dest='anchor_scales', type=lambda s: [float(v) for v in s.split(',')],
                   default=[32, 64, 128, 256, 512])
    p.add_argument('--rpn-anchors', dest='rpn_anchors', type=int, default=256)
    p.add_argument('--pre-nms', dest='pre_nms', type=int, default=6000)
    p.add_argument('--post-nms', dest='post_nms', type=int, default=2000)
    p.add_argument('--rois', type=int, default=200)
    p.add_argument('--max-gt', dest='max_gt', type=int, default=100)
    p.add_argument('--min-pixels', dest='min_pixels', type=int, default=50)
    p.add_argument('--bn-init', dest='bn_init', default='identity', choices=('identity', 'damped'))
    p.add_argument('--layers', default='transfer')
    p.add_argument('--lr', type=float, default=1e-5)
    p.add_argument('--transfer-lr', dest='transfer_lr', type=float, default=1e-2)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--weight-decay', dest='weight_decay', type=float, default=1e-4)
    p.add_argument('--clip', type=float, default=5.0)
    args = p.parse_args(argv)
    if args.device != 'cpu':
        p.error('--device %s: the Mask R-CNN reference step runs on the CPU only' % args.device)
    torch.set_num_threads(args.threads)
    stepper = Stepper(args)
    warm = [stepper.step() for _ in range(args.warmup)]
    if args.profile:
        from torch.profiler import ProfilerActivity, profile as tprofile
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            times = [stepper.step() for _ in range(args.profile)]
        print('# %d profiled steps: %s s' % (args.profile, ' '.join('%.3f' % t for t in times)))
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=40))
        return 0
    print('ready ' + json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'device': args.device,
                                 'warmup_s': warm, 'peak_rss_mb': peak_rss_mb(),
                                 'rois_per_image': stepper.last_rois,
                                 'trainable_params': sum(p.numel() for p in stepper.params)}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        if words[0] == 'steps' and len(words) == 2 and words[1].isdigit():
            times = [stepper.step() for _ in range(int(words[1]))]
            print(json.dumps({'times': times, 'peak_rss_mb': peak_rss_mb(), 'rois_per_image': stepper.last_rois}),
                  flush=True)
        else:
            print(json.dumps({'error': 'unknown request %r (expected "steps K" or "quit")' % line.strip()}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

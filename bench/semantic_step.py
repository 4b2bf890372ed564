#!/usr/bin/python3
"""Python half of `sdn bench step`: the semantic training step of bench/semantic_reference.py, timed on request.

The C++ benchmark starts this script once and alternates blocks of its own steps with blocks of ours, so a
change of machine load hits both sides alike. Protocol (one line each way, stdout carries only replies):
  after start-up and warm-up        ->  ready {"torch": ..., "threads": ..., "warmup_s": [...]}
  stdin "steps K"                    ->  {"times": [K seconds]}
  stdin "quit" or end of input       ->  exits 0
A step is what the trainer's step does in C++ (train/loop.cpp + train/semantic_stage.cpp): build the batch
from 8-bit RGB frames and class maps (RGB->BGR, the original's normalisation, labels shifted by -1 and sampled
on the 1/8 grid), zero_grad, forward, NLL loss with deep supervision 0.4, backward, SGD step (lr 0.01,
momentum 0.9, weight decay 1e-4). The original does the batch conversion in its data loader; both sides time
it here so that they time the same work. On CUDA the step ends with torch.cuda.synchronize().

With --original DIR the model is instead the ORIGINAL module definitions, imported from a 3D-SDN checkout
(bench/semantic_original.py: SegmentationModule computes the loss and pixel accuracy itself, one SGD per net,
as semantic/vkitti_train.py trains); the batch conversion is timed the same way.
--profile N: instead of serving, run N steps under torch.profiler and print the per-op table (self CPU time).

Run by hand:  /usr/bin/python3 bench/semantic_step.py --model drn_d_22 --threads 2  (then type "steps 3")
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import semantic_reference as ref  # noqa: E402

# The original's Normalize (mean on the 0..255 scale, std not), applied to B, G, R in that order.
MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STD = (0.229, 0.224, 0.225)


def make_batch(frames, stride=8):
    """frames: list of (rgb uint8 H x W x 3, classes uint8 H x W), H and W multiples of 8 (no padding needed)."""
    images, labels = [], []
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    for rgb, classes in frames:
        bgr = rgb.flip(2).permute(2, 0, 1).float()
        images.append((bgr - mean) / std)
        ids = classes[stride // 2::stride, stride // 2::stride].long()
        labels.append(torch.where((ids == 0) | (ids == 255), torch.full_like(ids, -1), ids - 1))
    return torch.stack(images), torch.stack(labels)


class Stepper:
    def __init__(self, args):
        self.device = torch.device(args.device)
        torch.manual_seed(args.seed)
        self.original = None
        if args.original:
            import semantic_original
            self.original, self.opts, self.info = semantic_original.build(args.original, bn=args.original_bn)
            self.original.to(self.device).train()
        else:
            self.model = ref.build(args.model, ref.NUM_CLASSES).to(self.device).train()
            params = [p for p in self.model.parameters() if p.requires_grad]
            self.opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
            self.info = {}
        self.crit = nn.NLLLoss(ignore_index=-1)
        g = torch.Generator().manual_seed(args.seed)
        self.frames = [(torch.randint(0, 256, (args.height, args.width, 3), dtype=torch.uint8, generator=g),
                        torch.randint(0, ref.NUM_CLASSES, (args.height, args.width), dtype=torch.uint8, generator=g))
                       for _ in range(args.batch)]

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def step(self):
        if self.original is not None:
            return self.step_original()
        t0 = time.perf_counter()
        with torch.autograd.profiler.record_function('make_batch'):  # visible in --profile; ~free otherwise
            x, labels = make_batch(self.frames)
        x, labels = x.to(self.device), labels.to(self.device)
        self.opt.zero_grad()
        main, deepsup = self.model(x)
        loss = self.crit(main, labels)
        if deepsup is not None:
            loss = loss + 0.4 * self.crit(deepsup, labels)
        loss.backward()
        self.opt.step()
        self.sync()
        return time.perf_counter() - t0

    def step_original(self):
        """semantic/vkitti_train.py train(): zero_grad, loss and acc from the module, mean, backward, both SGDs."""
        t0 = time.perf_counter()
        with torch.autograd.profiler.record_function('make_batch'):
            x, labels = make_batch(self.frames)
        feed = {'img_data': x.to(self.device), 'seg_label': labels.to(self.device)}
        self.original.zero_grad()
        loss, acc = self.original(feed)
        loss = loss.mean()
        acc = acc.mean()
        loss.backward()
        for opt in self.opts:
            opt.step()
        self.sync()
        return time.perf_counter() - t0


def profile(stepper, steps, rows):
    from torch.profiler import ProfilerActivity, profile as tprofile
    with tprofile(activities=[ProfilerActivity.CPU]) as prof:
        times = [stepper.step() for _ in range(steps)]
    print('# %d profiled steps: %s s' % (steps, ' '.join('%.3f' % t for t in times)))
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', choices=sorted(ref.MODELS), default='resnet50dilated8_ppm_deepsup')
    p.add_argument('--batch', type=int, default=2)
    p.add_argument('--height', type=int, default=152)
    p.add_argument('--width', type=int, default=496)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--seed', type=int, default=304)
    p.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    p.add_argument('--original', default='', help='a ysymyth/3D-SDN checkout: time its own module definitions')
    p.add_argument('--original-bn', default='native', choices=('native', 'sync'),
                   help='native: F.batch_norm, as the original on one device; sync: its synchronised BN path')
    p.add_argument('--profile', type=int, default=0, help='profile N steps (after warm-up) and exit')
    p.add_argument('--stage-config', default='', help='the stage\'s resolved INI (unused: --model names the net)')
    args = p.parse_args(argv)
    if args.height % 8 or args.width % 8:
        p.error('--height and --width must be multiples of 8')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        p.error('--device %s: this torch has no usable CUDA (torch %s)' % (args.device, torch.__version__))
    torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = False  # the C++ side leaves cuDNN autotuning off too (the default)
    stepper = Stepper(args)
    warm = [stepper.step() for _ in range(args.warmup)]
    if args.profile:
        profile(stepper, args.profile, 40)
        return 0
    print('ready ' + json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(),
                                 'device': args.device, 'warmup_s': warm, **stepper.info}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        if words[0] == 'steps' and len(words) == 2 and words[1].isdigit():
            print(json.dumps({'times': [stepper.step() for _ in range(int(words[1]))]}), flush=True)
        else:
            print(json.dumps({'error': 'unknown request %r (expected "steps K" or "quit")' % line.strip()}), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""Python half of `sdn bench step` for the textural stage: one pix2pixHD step of bench/textural_reference.py.

The C++ benchmark starts this script once and alternates blocks of its own steps with blocks of ours (the
protocol of bench/semantic_step.py: "ready {...}" after warm-up, "steps K" -> {"times": [...]}, "quit").
A step is what train/step_runner.cpp runs for the textural stage (train/stages/textural_stage.cpp), in the
order of the original's train.py:
  phase G: random crop + flip of the frames (textural.crop_width x crop_height; frames already at
           textural.load_width, so no scale), the ground-truth encoding of encode_input (one-hot labels, Car/Van
           without an object -> Road, instance ids = labels, edges, zero pose bins, zero normals: the bench's
           frames have no objects), netE's instance-pooled features, netG, the loss terms (D on the detached
           fake, D on the real, D on the fake, feature matching, VGG-19, L1), optimizer_G.zero_grad, backward
           of the G loss, Adam step of G+E;
  phase D: optimizer_D.zero_grad, backward of 0.5 * (fake + real), Adam step of D.
Both Adams: lr textural.lr, betas (beta1, beta2). The nets' sizes, the crop and the VGG weights come from
--stage-config (the stage's resolved INI, passed by `sdn bench step`); without textural.vgg_weights or with
textural.vgg_loss = false the VGG term is seeded or off as there. Loss terms are read back with float() per step,
as the C++ stage reads them with item(). On CUDA the step ends with torch.cuda.synchronize().

  --write-vgg FILE.pth   writes a seeded VGG-19 `features` state_dict in torchvision's layout and exits
                         (convert it with scripts/pth_to_h5.py --state FILE.pth --out vgg19.h5 for
                         --textural.vgg_weights: the real weights cannot be downloaded here; timing is the same)
  --profile N            instead of serving, profile N steps under torch.profiler and print the per-op table.

Run by hand: /usr/bin/python3 bench/textural_step.py --stage-config "$(cat stage.ini)" --width 800 --height 240
"""
import argparse
import configparser
import json
import os
import random
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import textural_reference as ref  # noqa: E402

LABEL_NC, POSE_NC = 14, 25
ROAD, CAR, VAN = 5, 2, 12


def stage_options(text):
    """[textural] keys of the stage INI (dotted keys become sections, as sdn writes them)."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string('[top]\n' + text)
    o = dict(cp['textural']) if cp.has_section('textural') else {}
    ints = ('ngf', 'n_downsample_global', 'n_blocks_global', 'feat_num', 'nef', 'n_downsample_E', 'ndf',
            'n_layers_D', 'num_D', 'load_width', 'crop_width', 'crop_height')
    d = dict(ngf=64, n_downsample_global=4, n_blocks_global=9, feat_num=5, nef=16, n_downsample_E=4, ndf=64,
             n_layers_D=3, num_D=2, load_width=800, crop_width=624, crop_height=192, lr=2e-4, beta1=0.5,
             beta2=0.999, lambda_feat=5.0, lambda_l1=10.0, vgg_loss=True, gan_feat=True, flip=True, vgg_weights='')
    for k in d:
        v = o.get(k.lower())
        if v is None:
            continue
        if k in ints:
            d[k] = int(v)
        elif isinstance(d[k], bool):
            d[k] = v.strip().lower() in ('1', 'true', 'yes', 'on')
        elif isinstance(d[k], float):
            d[k] = float(v)
        else:
            d[k] = v.strip()
    return d


def write_vgg(path, seed=19):
    torch.manual_seed(seed)
    torch.save(ref.build('vgg19').state_dict(), path)


class Stepper:
    def __init__(self, args, o):
        self.device = torch.device(args.device)
        self.o = o
        torch.manual_seed(args.seed)
        self.netG = ref.GlobalGenerator(LABEL_NC + 1 + o['feat_num'] + POSE_NC + 3, 3, o['ngf'],
                                        o['n_downsample_global'], o['n_blocks_global'])
        self.netE = ref.Encoder(3, o['feat_num'], o['nef'], o['n_downsample_E'])
        self.netD = ref.MultiscaleDiscriminator(LABEL_NC + 1 + 3, o['ndf'], o['n_layers_D'], o['num_D'])
        for net in (self.netG, self.netE, self.netD):
            for m in net.modules():  # pix2pixHD's weights_init: N(0, 0.02) convolutions
                if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                    m.weight.data.normal_(0.0, 0.02)
            net.to(self.device).train()
        self.vgg = None
        if o['vgg_loss']:
            self.vgg = ref.build('vgg19')
            if o['vgg_weights']:
                ref.load(self.vgg, o['vgg_weights'])
            self.vgg.to(self.device).eval()
            for p in self.vgg.parameters():
                p.requires_grad_(False)
        betas = (o['beta1'], o['beta2'])
        self.opt_G = torch.optim.Adam(list(self.netG.parameters()) + list(self.netE.parameters()), lr=o['lr'],
                                      betas=betas)
        self.opt_D = torch.optim.Adam(self.netD.parameters(), lr=o['lr'], betas=betas)
        g = torch.Generator().manual_seed(args.seed)
        self.frames = [(torch.randint(0, 256, (args.height, args.width, 3), dtype=torch.uint8, generator=g),
                        torch.randint(0, LABEL_NC, (args.height, args.width), dtype=torch.uint8, generator=g))
                       for _ in range(args.batch)]
        self.rng = random.Random(args.seed)

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def make_batch(self):
        """get_params + crop + flip of every frame, then encode_input of the ground-truth maps."""
        o = self.o
        cw, ch = o['crop_width'], o['crop_height']
        reals, labels = [], []
        for rgb, classes in self.frames:
            h, w = classes.shape
            x0, y0 = self.rng.randint(0, w - cw), self.rng.randint(0, h - ch)
            flip = o['flip'] and self.rng.random() > 0.5
            img, lab = rgb[y0:y0 + ch, x0:x0 + cw], classes[y0:y0 + ch, x0:x0 + cw]
            if flip:
                img, lab = img.flip(1), lab.flip(1)
            reals.append(img.permute(2, 0, 1))
            labels.append(lab.unsqueeze(0))
        real = ((torch.stack(reals).float() / 255.0 - 0.5) / 0.5).to(self.device)
        label = torch.stack(labels).long()
        label[(label == CAR) | (label == VAN)] = ROAD  # no object anywhere: Car/Van pixels are Road
        label = label.to(self.device)
        inst = label.float()
        b, _, hh, ww = label.shape
        one_hot = torch.zeros(b, LABEL_NC, hh, ww, device=self.device).scatter_(1, label, 1.0)
        label_edges = torch.cat((one_hot, ref.get_edges(inst)), 1)
        pose = torch.zeros(b, POSE_NC, hh, ww, device=self.device).scatter_(1, torch.zeros_like(label), 1.0)
        normals = torch.zeros(b, 3, hh, ww, device=self.device)
        return real, inst, label_edges, pose, normals

    def step(self):
        o = self.o
        t0 = time.perf_counter()
        with torch.autograd.profiler.record_function('make_batch'):
            real, inst, label_edges, pose, normals = self.make_batch()
        feat = self.netE(real, inst)
        fake = self.netG(torch.cat((label_edges, feat, pose, normals), 1))
        t = ref.losses(self.netD, self.vgg, label_edges, fake, real, num_D=o['num_D'], n_layers=o['n_layers_D'],
                       lambda_feat=o['lambda_feat'], lambda_l1=o['lambda_l1'])
        if not o['gan_feat']:
            t['G/feat'] = torch.zeros(())
        loss_G = t['G/gan'] + t['G/feat'] + t['G/vgg'] + t['G/l1']
        loss_D = (t['D/fake'] + t['D/real']) * 0.5
        self.opt_G.zero_grad()
        loss_G.backward()
        self.opt_G.step()
        self.opt_D.zero_grad()
        loss_D.backward()
        self.opt_D.step()
        self.terms = {k: float(v) for k, v in t.items()}
        self.sync()
        return time.perf_counter() - t0


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def profile(stepper, steps, rows):
    from torch.profiler import ProfilerActivity, profile as tprofile
    with tprofile(activities=[ProfilerActivity.CPU]) as prof:
        times = [stepper.step() for _ in range(steps)]
    print('# %d profiled steps: %s s' % (steps, ' '.join('%.3f' % t for t in times)))
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', default='textural_netG', help='the C++ side\'s first module (only textural_netG)')
    p.add_argument('--stage-config', default='', help='the stage\'s resolved INI text (net sizes, crop, Adam, VGG)')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--height', type=int, default=240)
    p.add_argument('--width', type=int, default=800)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--seed', type=int, default=304)
    p.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    p.add_argument('--profile', type=int, default=0, help='profile N steps (after warm-up) and exit')
    p.add_argument('--write-vgg', default='', help='write a seeded torchvision-layout VGG-19 .pth and exit')
    args = p.parse_args(argv)
    if args.write_vgg:
        write_vgg(args.write_vgg)
        return 0
    if args.model != 'textural_netG':
        p.error('--model %s: this script steps the textural stage (textural_netG)' % args.model)
    o = stage_options(args.stage_config)
    if o['load_width'] not in (0, args.width):
        p.error('--width %d: give frames already at textural.load_width = %d (the scale is not part of this '
                'step), or set textural.load_width = 0' % (args.width, o['load_width']))
    if o['crop_width'] > args.width or o['crop_height'] > args.height:
        p.error('the %dx%d crop does not fit %dx%d frames' % (o['crop_width'], o['crop_height'], args.width,
                                                              args.height))
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        p.error('--device %s: this torch has no usable CUDA (torch %s)' % (args.device, torch.__version__))
    torch.set_num_threads(args.threads)
    stepper = Stepper(args, o)
    warm = [stepper.step() for _ in range(args.warmup)]
    if args.profile:
        profile(stepper, args.profile, 40)
        print('# peak RSS %.0f MB' % peak_rss_mb())
        return 0
    print('ready ' + json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(),
                                 'device': args.device, 'warmup_s': warm, 'peak_rss_mb': peak_rss_mb()}),
          flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        if words[0] == 'steps' and len(words) == 2 and words[1].isdigit():
            times = [stepper.step() for _ in range(int(words[1]))]
            print(json.dumps({'times': times, 'peak_rss_mb': peak_rss_mb(), 'terms': stepper.terms}), flush=True)
        else:
            print(json.dumps({'error': 'unknown request %r (expected "steps K" or "quit")' % line.strip()}),
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

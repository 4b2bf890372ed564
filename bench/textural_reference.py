#!/usr/bin/python3
"""The 3D-SDN textural networks (pix2pixHD) in plain PyTorch, as the reference for the C++ port.

A transcription of ysymyth/3D-SDN textural/models/networks.py (GlobalGenerator, ResnetBlock, Encoder,
MultiscaleDiscriminator with getIntermFeat, NLayerDiscriminator, GANLoss, VGGLoss) and of the loss terms of
pix2pixHD_model.py, with the options of textural/options/*.py: norm = InstanceNorm2d(affine=False,
track_running_stats=True), netG 48 -> 3 (ngf 64, 4 downsamplings, 9 blocks), netE 3 -> 5 (nef 16, 4
downsamplings), netD 18 channels (ndf 64, 3 layers, 2 scales). The VGG-19 is torchvision's `features`
(names features.N.*) up to relu5_1, built here without torchvision.

Uses (Debian's /usr/bin/python3 with python3-torch):
  bench/textural_reference.py params netG > tests/golden/textural_netG.params.txt   (also netE, netD)
  bench/textural_reference.py count netG
  bench/textural_reference.py forward --tiny --weights-g g.h5 --weights-e e.h5 --weights-d d.h5 \
      --weights-vgg v.h5 --input x.h5 --output y.h5
"""
import argparse
import sys

import torch
import torch.nn as nn


def norm_layer(channels):
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=True)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), norm_layer(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), norm_layer(dim))

    def forward(self, x):
        return x + self.conv_block(x)


def down_up(input_nc, ngf, n_down, blocks, output_nc):
    model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7), norm_layer(ngf), nn.ReLU(True)]
    for i in range(n_down):
        m = 2 ** i
        model += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1), norm_layer(ngf * m * 2), nn.ReLU(True)]
    for _ in range(blocks):
        model += [ResnetBlock(ngf * 2 ** n_down)]
    for i in range(n_down):
        m = 2 ** (n_down - i)
        model += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1),
                  norm_layer(ngf * m // 2), nn.ReLU(True)]
    model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
    return nn.Sequential(*model)


class GlobalGenerator(nn.Module):
    def __init__(self, input_nc=48, output_nc=3, ngf=64, n_down=4, blocks=9):
        super().__init__()
        self.model = down_up(input_nc, ngf, n_down, blocks, output_nc)

    def forward(self, x):
        return self.model(x)


class Encoder(nn.Module):
    def __init__(self, input_nc=3, output_nc=5, nef=16, n_down=4):
        super().__init__()
        self.output_nc = output_nc
        self.model = down_up(input_nc, nef, n_down, 0, output_nc)

    def forward(self, x, inst):
        # The original's loop over np.unique(inst) with the batch index folded into the id, as a scatter.
        out = self.model(x)
        mean = out.clone()
        b = inst.size(0)
        ids = inst.long() * b + torch.arange(b, device=inst.device).view(b, 1, 1, 1)
        for i in torch.unique(ids).tolist():
            m = (ids == i).expand_as(out[:, :1])
            for j in range(self.output_nc):
                sel = out[:, j:j + 1][m]
                mean[:, j:j + 1][m] = sel.mean()
        return mean


class MultiscaleDiscriminator(nn.Module):
    def __init__(self, input_nc=18, ndf=64, n_layers=3, num_D=2):
        super().__init__()
        self.num_D, self.n_layers = num_D, n_layers
        for i in range(num_D):
            seq = [[nn.Conv2d(input_nc, ndf, 4, stride=2, padding=2), nn.LeakyReLU(0.2, True)]]
            nf = ndf
            for _ in range(1, n_layers):
                prev, nf = nf, min(nf * 2, 512)
                seq += [[nn.Conv2d(prev, nf, 4, stride=2, padding=2), norm_layer(nf), nn.LeakyReLU(0.2, True)]]
            prev, nf = nf, min(nf * 2, 512)
            seq += [[nn.Conv2d(prev, nf, 4, stride=1, padding=2), norm_layer(nf), nn.LeakyReLU(0.2, True)]]
            seq += [[nn.Conv2d(nf, 1, 4, stride=1, padding=2)]]
            for j, s in enumerate(seq):
                setattr(self, 'scale%d_layer%d' % (i, j), nn.Sequential(*s))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False)

    def forward(self, x):
        result = []
        for i in range(self.num_D):
            feats, h = [], x
            for j in range(self.n_layers + 2):
                h = getattr(self, 'scale%d_layer%d' % (self.num_D - 1 - i, j))(h)
                feats.append(h)
            result.append(feats)
            if i != self.num_D - 1:
                x = self.downsample(x)
        return result


VGG_CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256),
             (14, 256, 256), (16, 256, 256), (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512),
             (28, 512, 512)]
VGG_SLICE_ENDS = [2, 7, 12, 21, 30]


class Vgg19(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        convs = {i: (cin, cout) for i, cin, cout in VGG_CONVS}
        for i in range(30):
            if i in convs:
                layers.append(nn.Conv2d(convs[i][0], convs[i][1], 3, padding=1))
            elif i in (4, 9, 18, 27):
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers.append(nn.ReLU(True))
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        out, start = [], 0
        for end in VGG_SLICE_ENDS:
            for i in range(start, end):
                x = self.features[i](x)
            out.append(x)
            start = end
        return out


def losses(netD, vgg, label, fake, real, num_D=2, n_layers=3, lambda_feat=5.0, lambda_l1=10.0):
    """pix2pixHD_model.forward's terms for one G forward (pool_size 0), in the original's D call order."""
    mse, l1 = nn.MSELoss(), nn.L1Loss()

    def gan(pred, real_target):
        return sum(mse(p[-1], torch.full_like(p[-1], 1.0 if real_target else 0.0)) for p in pred)

    pred_fake_pool = netD(torch.cat((label, fake.detach()), 1))
    d_fake = gan(pred_fake_pool, False)
    pred_real = netD(torch.cat((label, real.detach()), 1))
    d_real = gan(pred_real, True)
    pred_fake = netD(torch.cat((label, fake), 1))
    g_gan = gan(pred_fake, True)
    g_feat = 0
    for i in range(num_D):
        for j in range(len(pred_fake[i]) - 1):
            g_feat = g_feat + (1.0 / num_D) * (4.0 / (n_layers + 1)) * l1(pred_fake[i][j], pred_real[i][j].detach()) \
                * lambda_feat
    g_vgg = 0
    if vgg is not None:
        xv, yv = vgg(fake), vgg(real)
        for w, a, b in zip([1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0], xv, yv):
            g_vgg = g_vgg + w * l1(a, b.detach())
        g_vgg = g_vgg * lambda_feat
    g_l1 = l1(fake, real) * lambda_l1
    return {'G/gan': g_gan, 'G/feat': g_feat, 'G/vgg': g_vgg, 'G/l1': g_l1, 'D/real': d_real, 'D/fake': d_fake}


def get_edges(t):
    edge = torch.zeros(t.size(), dtype=torch.bool, device=t.device)
    edge[:, :, :, 1:] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, :, :-1] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, 1:, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    edge[:, :, :-1, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    return edge.float()


TINY = dict(ngf=8, nef=4, ndf=8, n_down=2, blocks=1)


def build(name, tiny=False):
    t = TINY if tiny else dict(ngf=64, nef=16, ndf=64, n_down=4, blocks=9)
    if name == 'netG':
        return GlobalGenerator(48, 3, t['ngf'], t['n_down'], t['blocks'])
    if name == 'netE':
        return Encoder(3, 5, t['nef'], t['n_down'])
    if name == 'netD':
        return MultiscaleDiscriminator(18, t['ndf'], 3, 2)
    if name == 'vgg19':
        return Vgg19()
    sys.exit('textural_reference: unknown network %s (netG, netE, netD, vgg19)' % name)


def load(model, path):
    import h5py
    import numpy as np
    with h5py.File(path, 'r') as f:
        state = {k: torch.as_tensor(np.asarray(f[k][()])) for k in f.keys()}
    model.load_state_dict(state, strict=True)


def cmd_forward(a):
    """netE pooled features, netG output, netD features, the loss terms and running stats after the step."""
    import h5py
    import numpy as np
    nets = {n: build(n, a.tiny) for n in ('netG', 'netE', 'netD')}
    load(nets['netG'], a.weights_g)
    load(nets['netE'], a.weights_e)
    load(nets['netD'], a.weights_d)
    vgg = None
    if a.weights_vgg:
        vgg = build('vgg19')
        load(vgg, a.weights_vgg)
    with h5py.File(a.input, 'r') as f:
        x = {k: torch.as_tensor(np.asarray(f[k][()])) for k in f.keys()}
    feat = nets['netE'](x['real'], x['inst'])
    g_in = torch.cat((x['label_edge'], feat, x['rest']), 1)
    fake = nets['netG'](g_in)
    terms = losses(nets['netD'], vgg, x['label_edge'], fake, x['real'])
    d_feats = nets['netD'](torch.cat((x['label_edge'], x['real']), 1))
    with h5py.File(a.output, 'w') as f:
        f['feat'] = feat.detach().numpy()
        f['fake'] = fake.detach().numpy()
        f['edges'] = get_edges(x['inst']).numpy()
        for i, scale in enumerate(d_feats):
            for j, t in enumerate(scale):
                f['d_%d_%d' % (i, j)] = t.detach().numpy()
        for k, v in terms.items():
            f['loss_' + k.replace('/', '_')] = np.array([float(v)], dtype=np.float32)
        g = f.create_group('state_d')
        for k, v in nets['netD'].state_dict().items():
            g[k] = v.numpy()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    for name in ('params', 'count'):
        s = sub.add_parser(name)
        s.add_argument('net')
        s.add_argument('--tiny', action='store_true')
    s = sub.add_parser('forward')
    s.add_argument('--tiny', action='store_true')
    for w in ('g', 'e', 'd', 'vgg'):
        s.add_argument('--weights-' + w, default='')
    s.add_argument('--input', required=True)
    s.add_argument('--output', required=True)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    if a.cmd == 'params':
        for k, v in build(a.net, a.tiny).state_dict().items():
            print('%s [%s]' % (k, ','.join(str(d) for d in v.shape)))
    elif a.cmd == 'count':
        print(sum(q.numel() for q in build(a.net, a.tiny).parameters()))
    else:
        cmd_forward(a)


if __name__ == '__main__':
    main(sys.argv[1:])

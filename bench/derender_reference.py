#!/usr/bin/python3
"""The 3D-SDN derenderer network in plain PyTorch, as the reference for the C++ port's names and shapes.

torchvision's resnet18 (BasicBlock [2, 2, 2, 2], written out here because Debian has no torchvision) with the
original's patches (AdaptiveAvgPool2d(1), fc 512 -> 256), then fc1 260 -> 256, fc2 256 -> 256, _fc3 256 -> 1552,
as ysymyth/3D-SDN geometric/derender3d/models/derenderer.py.

It also carries the original's mesh loading (neural_renderer's load_obj with normalization=True, then
ShapenetObj's unit box and axis swap) and FFD forward (models/transforms.py, without .cuda() and scipy), for the
C++ tests to compare against (tests/unit/test_data_mesh.cpp).

Uses (Debian's /usr/bin/python3 with python3-torch and numpy):
  bench/derender_reference.py params > tests/golden/derender.params.txt
  bench/derender_reference.py count
  bench/derender_reference.py load_obj MODEL.obj OUT.txt   # normalised vertices then faces, one per line
  bench/derender_reference.py ffd IN.txt OUT.txt           # IN: 192 coefficients, then one vertex per line
  bench/derender_reference.py pose IN.txt OUT.txt          # IN: roi_norm(4) focal raw(8) per object; then vertices
"""
import json
import math
import sys

import numpy as np

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 1)
        self.layer2 = self._make_layer(128, 2)
        self.layer3 = self._make_layer(256, 2)
        self.layer4 = self._make_layer(512, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def _make_layer(self, planes, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*layers)


class Derenderer(nn.Module):
    in_size = 4
    hidden_size = 256

    def __init__(self, num_classes=8, grid_size=4):
        super().__init__()
        out = 2 + 2 + 3 + 1 + num_classes + num_classes * grid_size ** 3 * 3
        self.net = ResNet18()
        self.net.fc = nn.Linear(512, self.hidden_size)
        self.relu = nn.ReLU(inplace=True)
        self.fc1 = nn.Linear(self.hidden_size + self.in_size, self.hidden_size)
        self.fc2 = nn.Linear(self.hidden_size, self.hidden_size)
        self._fc3 = nn.Linear(self.hidden_size, out)


def load_obj(path):
    """nr.load_obj(path) (normalization=True) followed by ShapenetObj.__init__'s transform."""
    vertices = []
    for line in open(path).readlines():
        if len(line.split()) == 0:
            continue
        if line.split()[0] == 'v':
            vertices.append([float(v) for v in line.split()[1:4]])
    vertices = np.vstack(vertices).astype('float32')
    faces = []
    for line in open(path).readlines():
        if len(line.split()) == 0:
            continue
        if line.split()[0] == 'f':
            vs = line.split()[1:]
            nv = len(vs)
            v0 = int(vs[0].split('/')[0])
            for i in range(nv - 2):
                v1 = int(vs[i + 1].split('/')[0])
                v2 = int(vs[i + 2].split('/')[0])
                faces.append((v0, v1, v2))
    faces = np.vstack(faces).astype('int32') - 1
    vertices -= vertices.min(0)[None, :]
    vertices /= np.abs(vertices).max()
    vertices *= 2
    vertices -= vertices.max(0)[None, :] / 2
    vertices = vertices / np.ptp(vertices, axis=0)
    vertices = vertices[:, [2, 1, 0]] * np.asarray([-1, 1, 1], dtype=np.float32)
    return vertices, faces


def ffd(vertices, ffd_coeff, num_grids=4):
    """FFD(vertices, constraints=[symmetry(z), homogeneity(y, [0, 1])]).forward(ffd_coeff), as the original."""
    grids = np.arange(num_grids)
    binoms = torch.Tensor([math.comb(num_grids - 1, int(g)) for g in grids])
    grid_1ds = torch.Tensor(grids)
    grid_3ds = torch.Tensor(np.array(np.meshgrid(grids, grids, grids, indexing='ij')))
    coeff = (binoms * torch.pow(torch.unsqueeze(0.5 + vertices, dim=2), grid_1ds) *
             torch.pow(torch.unsqueeze(0.5 - vertices, dim=2), num_grids - 1 - grid_1ds))
    B = torch.unsqueeze(torch.einsum('ni,nj,nk->nijk', torch.unbind(coeff, dim=1)), dim=1)
    P0 = grid_3ds / (num_grids - 1) - 0.5
    dP = ffd_coeff.view(3, num_grids, num_grids, num_grids)
    # symmetry, axis z
    _dP = torch.flip(dP, [3])
    (_dPx, _dPy, _dPz) = torch.unbind(_dP, dim=0)
    dP = (dP + torch.stack([_dPx, _dPy, -_dPz], dim=0)) / 2
    # homogeneity, axis y, index [0, 1]
    dPs = torch.unbind(dP, dim=2)
    index = [0, 1]
    mean = sum(dPs[i] for i in index) / len(index)
    out = []
    for i in range(num_grids):
        if i in index:
            d = mean.clone()
            d[1] = dPs[i][1]
        else:
            d = dPs[i]
        out.append(d)
    dP = torch.stack(out, dim=2)
    return ((P0 + dP) * B).view(-1, 3, num_grids ** 3).sum(dim=2)


class PerspectiveTransform(nn.Module):
    """models/transforms.py PerspectiveTransform, verbatim."""

    def forward(self, vertices, scales=None, rotations=None, translations=None, perspective_translations=None,
                zooms=None, zoom_tos=None):
        if scales is not None:
            scales = scales.unsqueeze(dim=1)
            vertices = vertices * scales
        if rotations is not None:
            (a, b, c, d) = torch.unbind(rotations, dim=1)
            T = torch.stack([
                a * a + b * b - c * c - d * d, 2 * b * c - 2 * a * d, 2 * b * d + 2 * a * c,
                2 * b * c + 2 * a * d, a * a - b * b + c * c - d * d, 2 * c * d - 2 * a * b,
                2 * b * d - 2 * a * c, 2 * c * d + 2 * a * b, a * a - b * b - c * c + d * d,
            ], dim=1).view(-1, 3, 3)
            vertices = torch.matmul(vertices, torch.transpose(T, dim0=1, dim1=2))
        if translations is not None:
            translations = translations.unsqueeze(dim=1)
            vertices = vertices + translations
        if perspective_translations is not None:
            perspective_translations = perspective_translations.unsqueeze(dim=1)
        else:
            perspective_translations = translations
        (x, y, z) = torch.unbind(vertices, dim=2)
        (x0, y0, z0) = torch.unbind(perspective_translations, dim=2)
        x = x - x0 / z0 * z
        y = y - y0 / z0 * z
        if zoom_tos is not None:
            zooms = torch.min(torch.abs(z) / torch.max(torch.abs(x), torch.abs(y)), dim=1, keepdim=True)[0] * zoom_tos
        z = z / zooms
        vertices = torch.stack([x, y, z], dim=2)
        if zoom_tos is None:
            return vertices
        return (vertices, zooms)


def pose(roi_norms, focals, raw, vertices, image_size=256, render_size=384):
    """Derenderer3d.forward's ROI split, the Derenderer's theta normalisation and render()'s pose and views."""
    _mroi_norms = torch.stack([roi_norms[:, 2] + roi_norms[:, 0], roi_norms[:, 3] + roi_norms[:, 1]], dim=1) / 2.0
    _droi_norms = torch.stack([roi_norms[:, 2] - roi_norms[:, 0], roi_norms[:, 3] - roi_norms[:, 1]], dim=1)
    (_theta_deltas, _translation2ds, _log_scales, _log_depths) = torch.split(raw, [2, 2, 3, 1], dim=1)
    _theta_deltas = _theta_deltas / torch.norm(_theta_deltas, p=2, dim=1, keepdim=True)
    batch_size = len(focals)
    _thetas = torch.unsqueeze(torch.atan2(_theta_deltas[:, 1], _theta_deltas[:, 0]), dim=1)
    _rotations = torch.cat([torch.cos(_thetas / 2), torch.zeros(batch_size, 1), torch.sin(_thetas / 2),
                            torch.zeros(batch_size, 1)], dim=1)
    _areas = torch.unsqueeze(_droi_norms[:, 0] * _droi_norms[:, 1], dim=1)
    _scales = torch.exp(_log_scales)
    _depths = torch.sqrt(torch.exp(_log_depths) / _areas)
    _center2ds = _mroi_norms + _translation2ds * _droi_norms
    _translation_units = torch.stack([_center2ds[:, 1], - _center2ds[:, 0], - torch.ones(batch_size)], dim=1)
    _translation_units = _translation_units / torch.norm(_translation_units, p=2, dim=1, keepdim=True)
    _translations = _depths * _translation_units
    _alphas = - (_thetas - torch.atan(_translations[:, 0:1] / _translations[:, 2:3]))
    _alphas = torch.remainder(_alphas + np.pi, 2 * np.pi) - np.pi
    _ptu = torch.stack([_mroi_norms[:, 1], - _mroi_norms[:, 0], - torch.ones(batch_size)], dim=1)
    _ptu = _ptu / torch.norm(_ptu, p=2, dim=1, keepdim=True)
    _perspective_translations = _depths * _ptu
    _zooms = (image_size / focals) / torch.max(_droi_norms, dim=1, keepdim=True)[0]
    _zoom_tos = render_size / (2.0 * focals)
    pt = PerspectiveTransform()
    rows = []
    for i in range(batch_size):
        for t in (_thetas, _rotations, _scales, _depths, _center2ds, _translations, _alphas,
                  _perspective_translations, _zooms):
            rows.append(t[i].tolist())
        v = pt(vertices.unsqueeze(0), scales=_scales[i:i + 1], rotations=_rotations[i:i + 1],
               translations=_translations[i:i + 1], perspective_translations=_perspective_translations[i:i + 1],
               zooms=_zooms[i:i + 1])
        rows += v[0].tolist()
        (v, z) = pt(vertices.unsqueeze(0), scales=_scales[i:i + 1], rotations=_rotations[i:i + 1],
                    translations=_translations[i:i + 1], perspective_translations=_translations[i:i + 1],
                    zoom_tos=_zoom_tos[i:i + 1])
        rows += v[0].tolist() + [z[0].tolist()]
    return rows


def main(argv):
    model = Derenderer()
    sd = model.state_dict()
    if argv[1:] == ['params']:
        for name, t in sd.items():
            print('%s [%s]' % (name, ','.join(str(d) for d in t.shape)))
    elif argv[1:] == ['count']:
        print(json.dumps({
            'parameters': sum(p.numel() for p in model.parameters()),
            'state_dict_entries': len(sd),
            'entries_without_num_batches_tracked': sum(1 for k in sd if not k.endswith('num_batches_tracked'))}))
    elif len(argv) == 4 and argv[1] == 'load_obj':
        vertices, faces = load_obj(argv[2])
        with open(argv[3], 'w') as f:
            for v in vertices:
                f.write('v %.9g %.9g %.9g\n' % tuple(v))
            for t in faces:
                f.write('f %d %d %d\n' % tuple(t + 1))  # as .obj: 1-based
    elif len(argv) == 4 and argv[1] == 'ffd':
        rows = [list(map(float, line.split())) for line in open(argv[2]) if line.strip()]
        out = ffd(torch.tensor(rows[1:], dtype=torch.float32), torch.tensor(rows[0], dtype=torch.float32))
        with open(argv[3], 'w') as f:
            for v in out.tolist():
                f.write('%.9g %.9g %.9g\n' % tuple(v))
    elif len(argv) == 4 and argv[1] == 'pose':
        rows = [list(map(float, line.split())) for line in open(argv[2]) if line.strip()]
        objects = [r for r in rows if len(r) == 13]
        vertices = torch.tensor([r for r in rows if len(r) == 3], dtype=torch.float32)
        o = torch.tensor(objects, dtype=torch.float32)
        out = pose(o[:, 0:4], o[:, 4:5], o[:, 5:13], vertices)
        with open(argv[3], 'w') as f:
            for r in out:
                f.write(' '.join('%.9g' % x for x in r) + '\n')
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)

#!/usr/bin/python3
"""The 3D-SDN derenderer network in plain PyTorch, as the reference for the C++ port's names and shapes.

torchvision's resnet18 (BasicBlock [2, 2, 2, 2], written out here because Debian has no torchvision) with the
original's patches (AdaptiveAvgPool2d(1), fc 512 -> 256), then fc1 260 -> 256, fc2 256 -> 256, _fc3 256 -> 1552,
as ysymyth/3D-SDN geometric/derender3d/models/derenderer.py.

Uses (Debian's /usr/bin/python3 with python3-torch):
  bench/derender_reference.py params > tests/golden/derender.params.txt
  bench/derender_reference.py count
"""
import json
import sys

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
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)

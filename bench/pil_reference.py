#!/usr/bin/env python3
"""PIL side of the semantic training augmentation, for test_data_pil (skipped where Pillow is missing).

The original 3D-SDN TrainDataset resizes RGB with scipy.misc.imresize(..., interp='bilinear'), i.e. PIL's
Image.resize(BILINEAR), and jitters with torchvision 0.2's ColorJitter, whose adjust_* functions are PIL's
ImageEnhance and an HSV hue shift. The adjust_* bodies below follow torchvision 0.2.1's functional.py.

  pil_reference.py resize IN W H OW OH OUT        (RGB, BILINEAR)
  pil_reference.py bicubic IN W H OW OH OUT       (RGB, BICUBIC: the textural branch's scale_width)
  pil_reference.py nearest IN W H OW OH OUT       (one 8-bit plane, NEAREST: the label resize)
  pil_reference.py jitter IN W H BRIGHTNESS CONTRAST SATURATION HUE O0 O1 O2 O3 OUT

IN/OUT are raw packed bytes (H*W*3 RGB, H*W for nearest); O0..O3 is the order (0 brightness, 1 contrast, 2 saturation, 3 hue).
"""
import sys

import numpy as np
from PIL import Image, ImageEnhance


def load(path, w, h):
    data = np.fromfile(path, dtype=np.uint8).reshape(h, w, 3)
    return Image.fromarray(data, 'RGB')


def adjust_hue(img, hue_factor):
    h, s, v = img.convert('HSV').split()
    np_h = np.array(h, dtype=np.uint8)
    # torchvision: np_h += np.uint8(hue_factor * 255); the cast of a negative float wraps (int, then mod 256)
    np_h += np.uint8(int(hue_factor * 255) % 256)
    h = Image.fromarray(np_h, 'L')
    return Image.merge('HSV', (h, s, v)).convert('RGB')


def main(argv):
    op = argv[1]
    if op in ('resize', 'bicubic'):
        _, _, src, w, h, ow, oh, out = argv
        img = load(src, int(w), int(h)).resize((int(ow), int(oh)), Image.BILINEAR if op == 'resize' else Image.BICUBIC)
    elif op == 'jitter':
        src, w, h = argv[2], int(argv[3]), int(argv[4])
        b, c, s, hue = (float(x) for x in argv[5:9])
        order = [int(x) for x in argv[9:13]]
        out = argv[13]
        img = load(src, w, h)
        steps = {
            0: lambda im: ImageEnhance.Brightness(im).enhance(b),
            1: lambda im: ImageEnhance.Contrast(im).enhance(c),
            2: lambda im: ImageEnhance.Color(im).enhance(s),
            3: lambda im: adjust_hue(im, hue) if hue != 0.0 else im,
        }
        for k in order:
            img = steps[k](img)
    elif op == 'nearest':
        _, _, src, w, h, ow, oh, out = argv
        plane = np.fromfile(src, dtype=np.uint8).reshape(int(h), int(w))
        img = Image.fromarray(plane, 'L').resize((int(ow), int(oh)), Image.NEAREST)
    else:
        raise SystemExit('unknown op ' + op)
    np.asarray(img, dtype=np.uint8).tofile(out)


if __name__ == '__main__':
    main(sys.argv)

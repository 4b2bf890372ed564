#!/usr/bin/python3
"""Python half of `sdn bench ckpt`: torch.save / torch.load of the same training state, timed on request.

The state is what a PyTorch trainer of the semantic branch would save: {'model': state_dict (parameters and
BatchNorm buffers), 'optimizer': SGD state_dict (one momentum buffer per parameter)}, after one SGD step on a
small random batch so the momentum buffers exist. Saves are as durable as sdn's: write to a temporary name,
flush, fsync, rename, fsync the directory. The C++ benchmark drops the file from the page cache before each
load, for every contender alike, so loads read the disk.
Protocol (one line each way, stdout carries only replies):
  after start-up                     ->  ready {"torch": ..., "tensors": N, "tensor_bytes": B}
  stdin "save"                       ->  {"seconds": s, "bytes": file size, "path": file}
  stdin "load"                       ->  {"seconds": s, "tensors": N}
  stdin "quit" or end of input       ->  exits 0

Run by hand:  /usr/bin/python3 bench/ckpt_reference.py --model drn_d_22 --dir /tmp/x  (then type "save")
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


def training_state(model_name, seed):
    torch.manual_seed(seed)
    model = ref.build(model_name, ref.NUM_CLASSES).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9,
                          weight_decay=1e-4)
    x = torch.randn(2, 3, 64, 64)
    labels = torch.randint(-1, ref.NUM_CLASSES - 1, (2, 8, 8))
    main, deepsup = model(x)
    loss = nn.functional.nll_loss(main, labels, ignore_index=-1)
    if deepsup is not None:
        loss = loss + 0.4 * nn.functional.nll_loss(deepsup, labels, ignore_index=-1)
    loss.backward()
    opt.step()
    return {'model': model.state_dict(), 'optimizer': opt.state_dict()}


def tensors_of(obj):
    if torch.is_tensor(obj):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in tensors_of(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in tensors_of(v)]
    return []


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save(state, path):
    t0 = time.perf_counter()
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))
    return time.perf_counter() - t0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--model', choices=sorted(ref.MODELS), default='resnet50dilated8_ppm_deepsup')
    p.add_argument('--dir', required=True, help='directory on the disk under test')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=304)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    state = training_state(args.model, args.seed)
    tensors = tensors_of(state)
    path = os.path.join(os.path.abspath(args.dir), 'torch-state.pt')
    print('ready ' + json.dumps({'torch': torch.__version__, 'tensors': len(tensors),
                                 'tensor_bytes': sum(t.numel() * t.element_size() for t in tensors)}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == 'quit':
            break
        if words[0] == 'save':
            if os.path.exists(path):
                os.unlink(path)  # every contender writes a new file, as a checkpoint rotation does
            seconds = save(state, path)
            print(json.dumps({'seconds': seconds, 'bytes': os.path.getsize(path), 'path': path}), flush=True)
        elif words[0] == 'load':
            t0 = time.perf_counter()
            loaded = torch.load(path)
            seconds = time.perf_counter() - t0
            print(json.dumps({'seconds': seconds, 'tensors': len(tensors_of(loaded))}), flush=True)
        else:
            print(json.dumps({'error': 'unknown request %r (expected save, load or quit)' % line.strip()}), flush=True)
    if os.path.exists(path):
        os.unlink(path)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

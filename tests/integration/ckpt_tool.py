#!/usr/bin/python3
# Checkpoint helpers the integration tests need beyond `sdn ckpt` (h5py, the documented on-disk format):
#   params-diff A B TOL   largest |a-b| over the model's trainable parameters only (BatchNorm running statistics
#                         excluded: they are rank-local without SyncBN and updated per micro-batch, by design);
#                         exit 1 above TOL.
#   flip-bit FILE         flips one bit inside the stored data of the largest tensor (so the HDF5 structure still
#                         opens and only that dataset's CRC-32 can notice); prints the dataset's name.
import sys

import h5py
import numpy as np

BUFFERS = ("running_mean", "running_var", "num_batches_tracked", "_tmp_running_mean", "_tmp_running_var", "_running_iter")


def datasets(f):
    out = {}
    f["tensors"].visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out


def params_diff(a_path, b_path, tol):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        da, db = datasets(a), datasets(b)
        names = sorted(n for n in da if n.startswith("model/") and not n.endswith(BUFFERS))
        worst, worst_name, missing = 0.0, "", []
        for n in names:
            if n not in db or db[n].shape != da[n].shape:
                missing.append(n)
                continue
            d = float(np.max(np.abs(da[n][()].astype(np.float64) - db[n][()].astype(np.float64)), initial=0.0))
            if d > worst:
                worst, worst_name = d, n
        print(f"{len(names)} parameters: max |a-b| = {worst:.3e} at {worst_name} (tolerance {tol:.3e})")
        for n in missing:
            print(f"{n}: missing in {b_path} or of another shape")
        return 0 if not missing and worst <= tol else 1


def flip_bit(path):
    with h5py.File(path, "r") as f:
        ds = max(datasets(f).values(), key=lambda d: d.size)
        offset, name = ds.id.get_offset(), ds.name
        if offset is None:
            sys.exit(f"{path}: {name} has no contiguous storage to flip a bit in")
        offset += ds.size * ds.dtype.itemsize // 2
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x10]))
    print(name.removeprefix("/tensors/"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "params-diff":
        sys.exit(params_diff(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    if len(sys.argv) == 3 and sys.argv[1] == "flip-bit":
        sys.exit(flip_bit(sys.argv[2]))
    sys.exit("usage: ckpt_tool.py params-diff A B TOL | flip-bit FILE")

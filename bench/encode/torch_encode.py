"""PyTorch peer for bench:encode: the cnnHash architecture (encoder/models/cnnHash.ts, as in
bench/train/torch_cnn_hash.py) hashing generated 32x32x3 uint8 images on CPU in inference mode:
normalization, forward pass, sign and bit packing included, decoding excluded.

argv: bits n batch threads. Prints JSON {"img_per_s", "peak_mb", "n", "threads", "torch"}.
"""
import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

bits, n, batch, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU(), nn.MaxPool2d(2)]


net = nn.Sequential(
    *block(3, 32), *block(32, 64), *block(64, 128),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, bits), nn.Tanh(),
).eval()
mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
std = torch.tensor([0.247, 0.243, 0.261]).view(1, 3, 1, 1)
pool = np.random.default_rng(0).integers(0, 256, size=(256, 32, 32, 3), dtype=np.uint8)


def hash_batch(pixels):
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255).sub_(mean).div_(std)
    out = net(x)
    return np.packbits((out > 0).numpy(), axis=1)


with torch.inference_mode():
    hash_batch(pool)
    t0 = time.perf_counter()
    done = 0
    while done < n:
        size = min(batch, n - done)
        hash_batch(pool[:size])
        done += size
    elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"img_per_s": n / elapsed, "peak_mb": peak_mb, "n": n, "threads": threads, "torch": torch.__version__}))

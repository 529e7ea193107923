"""PyTorch twin of encoder/models/cnnHash.ts with the CSQ loss: training img/s on CPU.

argv: bits steps batch threads [options-json: must be {}, the default cnnHash]. Prints JSON
{"img_per_s", "params", "threads"}.
"""
import json
import sys
import time

import torch
from torch import nn

bits, steps, batch, threads = (int(a) for a in sys.argv[1:5])
if len(sys.argv) > 5 and json.loads(sys.argv[5]):
    raise SystemExit("torch_cnn_hash.py: only the default cnnHash options")
torch.set_num_threads(threads)
torch.manual_seed(0)


def block(cin, cout):
    # Keras BatchNormalization defaults: eps 1e-3, momentum 0.99 (PyTorch momentum 0.01).
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.ReLU(), nn.MaxPool2d(2)]


net = nn.Sequential(
    *block(3, 32), *block(32, 64), *block(64, 128),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, bits), nn.Tanh(),
)
# CSQ centres: rows of [H; -H], H Sylvester Hadamard (bits a power of two).
h = torch.ones(1, 1)
while h.shape[0] < bits:
    h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
centres = torch.cat([h, -h], 0)[:10]
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.randn(batch, 3, 32, 32)
y = torch.randint(0, 10, (batch,))
bce = nn.BCELoss()


def step():
    opt.zero_grad()
    u = net(x)
    loss = bce((u + 1) / 2, (centres[y] + 1) / 2) + 1e-4 * ((u.abs() - 1) ** 2).mean()
    loss.backward()
    opt.step()


for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
elapsed = time.perf_counter() - t0
params = sum(p.numel() for p in net.parameters())
print(json.dumps({"img_per_s": steps * batch / elapsed, "params": params, "threads": threads, "torch": torch.__version__}))

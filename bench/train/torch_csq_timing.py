"""Times CSQ training of a PyTorch twin the way bench:train times ours; shared by bench/train/torch_*.py.

The device is the environment's EDGEHASH_TORCH_DEVICE (default cpu; cuda for a GPU peer).
"""
import json
import os
import time

import torch
from torch import nn


def time_csq_training(net, bits, steps, batch, threads):
    """Adam at 1e-3 on random 32x32x3 inputs, 2 untimed steps, then `steps` timed; prints the JSON line."""
    device = torch.device(os.environ.get("EDGEHASH_TORCH_DEVICE", "cpu"))
    net = net.to(device)
    # CSQ centres: rows of [H; -H], H Sylvester Hadamard (bits a power of two).
    h = torch.ones(1, 1)
    while h.shape[0] < bits:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    centres = torch.cat([h, -h], 0)[:10].to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 32, 32).to(device)
    y = torch.randint(0, 10, (batch,)).to(device)
    bce = nn.BCELoss()

    def step():
        opt.zero_grad()
        u = net(x)
        loss = bce((u + 1) / 2, (centres[y] + 1) / 2) + 1e-4 * ((u.abs() - 1) ** 2).mean()
        loss.backward()
        opt.step()

    def wait():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(2):
        step()
    wait()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    wait()
    elapsed = time.perf_counter() - t0
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"img_per_s": steps * batch / elapsed, "params": params, "threads": threads, "device": str(device), "torch": torch.__version__}))

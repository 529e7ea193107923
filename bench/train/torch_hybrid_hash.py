"""PyTorch twin of encoder/models/hybridHash.ts (global attention) with the CSQ loss: training img/s on CPU.

argv: bits steps batch threads options-json. Prints JSON {"img_per_s", "params", "threads"}.
The options are hybridHash's (stemChannels, stemStrides, widths, depths, heads, mlpRatio,
interaction, positionEmbedding); blockSize must be 0.
"""
import json
import math
import sys

import torch
from torch import nn
from torch_csq_timing import time_csq_training

bits, steps, batch, threads = (int(a) for a in sys.argv[1:5])
options = json.loads(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)

o = {"stemChannels": 32, "stemStrides": 2, "widths": [64, 128], "depths": [2, 2], "heads": [2, 4],
     "blockSize": 0, "mlpRatio": 4, "interaction": True, "positionEmbedding": True, **options}
if o["blockSize"] != 0:
    raise SystemExit("torch_hybrid_hash.py: only global attention (blockSize 0)")


def conv_bn_relu(cin, cout, stride):
    # Keras BatchNormalization defaults: eps 1e-3, momentum 0.99 (PyTorch momentum 0.01).
    return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.ReLU()]


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, c = x.shape
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(c // self.heads)
        return self.proj((scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads, ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attention = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, round(dim * ratio)), nn.GELU(), nn.Linear(round(dim * ratio), dim))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Stage(nn.Module):
    def __init__(self, cin, width, depth, heads, side, first):
        super().__init__()
        self.merge = None if first else nn.Conv2d(cin, width, 3, 2, 1)
        self.merge_norm = None if first else nn.LayerNorm(width, eps=1e-6)
        self.position = nn.Parameter(torch.randn(side * side, width) * 0.02) if first and o["positionEmbedding"] else None
        self.blocks = nn.Sequential(*[Block(width, heads, o["mlpRatio"]) for _ in range(depth)])
        self.interaction_norm = nn.LayerNorm(width, eps=1e-6) if o["interaction"] else None
        self.interaction = nn.Conv2d(width, width, 3, 1, 1) if o["interaction"] else None

    def forward(self, x):  # x: [N, C, H, W]
        if self.merge is not None:
            x = self.merge_norm(self.merge(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        n, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        if self.position is not None:
            tokens = tokens + self.position
        x = self.blocks(tokens).transpose(1, 2).reshape(n, c, h, w)
        if self.interaction is not None:
            x = x + self.interaction(self.interaction_norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
        return x


class HybridHash(nn.Module):
    def __init__(self):
        super().__init__()
        stem = conv_bn_relu(3, o["stemChannels"], 1)
        cin = o["stemChannels"]
        for _ in range(o["stemStrides"]):
            stem += conv_bn_relu(cin, o["widths"][0], 2)
            cin = o["widths"][0]
        self.stem = nn.Sequential(*stem)
        side = 32 >> o["stemStrides"]
        stages = []
        for s, width in enumerate(o["widths"]):
            if s > 0:
                side = (side + 1) // 2
            stages.append(Stage(cin, width, o["depths"][s], o["heads"][s], side, s == 0))
            cin = width
        self.stages = nn.Sequential(*stages)
        self.head_norm = nn.LayerNorm(cin, eps=1e-6)
        self.hash = nn.Linear(cin, bits)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return torch.tanh(self.hash(self.head_norm(x.permute(0, 2, 3, 1)).mean((1, 2))))


net = HybridHash()
time_csq_training(net, bits, steps, batch, threads)

"""PyTorch twin of encoder/models/cnnHash.ts with the CSQ loss: training img/s on CPU.

argv: bits steps batch threads [options-json: must be {}, the default cnnHash]. Prints JSON
{"img_per_s", "params", "threads"}.
"""
import json
import sys

import torch
from torch import nn
from torch_csq_timing import time_csq_training

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
time_csq_training(net, bits, steps, batch, threads)

#!/bin/bash
# The GPU and many-core checks, run on a lent device machine from the repository root, after
# bench/device/pack.sh here:
#   run(command: "bash bench/device/check.sh", carry: [".dev", "wasm/build"])
# Prints and writes to $OUT: webgpu gradients against cpu, training throughput on webgpu against
# PyTorch CUDA and with one wasm replica per core against PyTorch CPU, and `edgehash train` on
# webgpu end to end (synthetic CIFAR-binary data). Each step has its own time limit. STEPS (default
# 20) sets the timed training steps.
set -u
OUT=${OUT:-/tmp/edgehash-device}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
steps=${STEPS:-20}
mark() { echo "--- $(date +%T) $*"; }
mark setup
for f in .dev/gl/lib{vulkan1,egl1,glvnd0,opengl0,gl1,glx0,gles2}_*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
if ! command -v node >/dev/null; then
  mkdir -p /tmp/node-bin
  xz -dc .dev/node.xz > /tmp/node-bin/node
  chmod +x /tmp/node-bin/node
  export PATH=/tmp/node-bin:$PATH
fi
tar xJf .dev/nm.tar.xz
EDGEHASH_PYTHON=$(command -v python3)
export EDGEHASH_PYTHON
nvidia-smi -L
echo "node $(node --version), $(nproc) cores"
tsx="node node_modules/tsx/dist/cli.mjs"
hybrid_s='{"widths":[48,96],"depths":[1,1],"heads":[2,4],"mlpRatio":2}'

mark gradients on webgpu against cpu
timeout 100 $tsx bench/train/backendParity.ts --backend webgpu --batch 8 | tee "$OUT/parity.jsonl"
mark training on webgpu against PyTorch CUDA
timeout 80 $tsx bench/train/run.ts --backend webgpu --steps "$steps" --torch-device cuda | tee -a "$OUT/train.jsonl"
timeout 80 $tsx bench/train/run.ts --backend webgpu --steps "$steps" --torch-device cuda \
  --model hybridHash --options "$hybrid_s" | tee -a "$OUT/train.jsonl"
mark edgehash train on webgpu, synthetic data
$tsx bench/device/syntheticCifar.ts /tmp/synthetic-cifar 120
timeout 120 node bin/edgehash.mjs train --config bench/device/webgpu-synthetic.json 2>&1 | grep -v ETA
mark training with wasm replicas against PyTorch CPU
for batch in 128 512; do
  timeout 80 $tsx bench/train/run.ts --backend wasm --steps 10 --batch $batch | tee -a "$OUT/train.jsonl"
done
mark done

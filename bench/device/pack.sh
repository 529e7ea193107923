#!/bin/bash
# Packs what bench/device/check.sh needs on a lent GPU machine (no registry, no Node there) into the
# ignored folder .dev/, to be named in the device tool's `carry` with wasm/build:
#   .dev/node.xz        this machine's Node binary (x86-64, linked only against glibc)
#   .dev/nm.tar.xz      the runtime subset of node_modules (plus the optional webgpu packages)
#   .dev/gl/*.deb       the Vulkan loader and GL dispatch libraries Dawn needs (Debian)
# The whole node_modules (1.3 GB) is over the tool's 64 MiB; this subset packs to about 16 MB.
# Usage: bash bench/device/pack.sh   (after npm ci and npm run build)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.dev
mkdir -p "$out/gl"
tfjs=$(node -p "require('@tensorflow/tfjs-core/package.json').version")
extra=$(mktemp -d)
npm install --prefix "$extra" --no-save --no-audit --no-fund --ignore-scripts \
  webgpu@0.6.2 "@tensorflow/tfjs-backend-webgpu@$tfjs" >/dev/null
list=$(mktemp)
# Runtime packages of bench/train/*.ts and `edgehash train` (found with strace -e openat).
packages="@esbuild/linux-x64 @img/colour @img/sharp-libvips-linux-x64 @img/sharp-linux-x64
  @protobufjs/aspromise @protobufjs/base64 @protobufjs/eventemitter @protobufjs/float
  @protobufjs/inquire @protobufjs/pool @protobufjs/utf8 detect-libc esbuild get-tsconfig long
  onnx-proto protobufjs resolve-pkg-maps seedrandom semver sharp tsx zod"
for p in $packages; do
  [ -d "node_modules/$p" ] || continue
  find "node_modules/$p" -type f ! -name '*.map' ! -name '*.d.ts' ! -name '*.d.cts' ! -name '*.d.mts' \
    ! -name '*.md' ! -name '*.ts' >> "$list"
done
for p in node_modules/@tensorflow/*; do
  find "$p" -maxdepth 2 \( -name package.json -o -name '*.node.js' -o -name '*.wasm' \) -type f >> "$list"
done
echo encoder/engine/build/trainKernels.wasm >> "$list"
(cd "$extra" && find node_modules/webgpu -type f ! -path '*/dist/*' && find node_modules/webgpu/dist/linux-x64 -type f \
  && find node_modules/@tensorflow/tfjs-backend-webgpu -maxdepth 2 \( -name package.json -o -name '*.node.js' \) -type f) > "$list.extra"
tar cf - -T "$list" | xz -T0 -6 > "$out/nm.tar.xz.tmp"
xz -dc "$out/nm.tar.xz.tmp" > "$out/nm.tar"
tar rf "$out/nm.tar" -C "$extra" -T "$list.extra"
xz -T0 -6 -c "$out/nm.tar" > "$out/nm.tar.xz" && rm "$out/nm.tar" "$out/nm.tar.xz.tmp"
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update >/dev/null
(cd "$out/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
rm -rf "$extra" "$list" "$list.extra"
du -sh "$out"/*

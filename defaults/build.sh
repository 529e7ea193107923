#!/usr/bin/env bash
# Rebuilds the embedded default: the int8 model and the demo collection that `npm start` serves.
#   bash defaults/build.sh CONFIG [CHECKPOINT_DIR]
# CONFIG is a training config whose run has finished (CIFAR-10 extracted into data/, see README);
# the demo collection is the first 200 test images of each CIFAR-10 class (2,000 images), listed in
# a seeded random order: ids follow the list, and search breaks distance ties by ascending id, so a
# class-sorted collection would favour the first classes whenever codes tie.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:?usage: bash defaults/build.sh CONFIG [CHECKPOINT_DIR]}
checkpoint=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

npx edgehash export --config "$config" ${checkpoint:+--checkpoint "$checkpoint"} --out "$work/model" --model-id model --int8
cp "$work/model/model.int8.onnx" "$work/model/model.int8.card.json" defaults/

mkdir -p "$work/demo"
for dir in data/cifar10-jpg/test/*/; do
  class=$(basename "$dir")
  mkdir -p "$work/demo/$class"
  mapfile -t files < <(find "$dir" -name '*.jpg' | sort)
  for file in "${files[@]:0:200}"; do
    cp "$file" "$work/demo/$class/"
    printf '%s/%s\t%s\n' "$class" "$(basename "$file")" "$class"
  done
done | shuf --random-source=<(yes edgehash) > "$work/demo/images.txt"

rm -rf defaults/collection
npx edgehash encode --source "$work/demo/images.txt" --kind files --model defaults/model.int8.onnx \
  --card defaults/model.int8.card.json --out defaults/collection --thumbnails

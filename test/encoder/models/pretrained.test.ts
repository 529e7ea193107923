// Pretrained initialisation: safetensors and ONNX readers, name mappings with axis permutations, and
// clear errors that name the file and leave the model unchanged.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, tensorProto } from '../../../encoder/export/onnxGraph.js';
import { createModel } from '../../../encoder/models/index.js';
import { applyPretrained, loadPretrained } from '../../../encoder/models/pretrained.js';
import { parseSafetensors, readWeightFile, WeightFileError } from '../../../encoder/models/weightFiles.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Entry = { dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; bytes: Uint8Array };

/** A safetensors file: u64 header length, JSON header, data. */
function safetensors(entries: Record<string, Entry>): Uint8Array {
  let offset = 0;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (const [name, e] of Object.entries(entries)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const e of Object.values(entries)) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}
const f32 = (values: number[] | Float32Array) => new Uint8Array(Float32Array.from(values).buffer);

const smallCnn = () =>
  createModel({
    architecture: 'cnnHash',
    bits: 8,
    inputSize: 8,
    channels: 3,
    numClasses: 2,
    seed: 1,
    options: { widths: [4], hidden: 0 },
  });
const weightOf = (net: tf.LayersModel, name: string) => net.weights.find((w) => w.originalName === name)!.read();

describe('weight file readers', () => {
  it('reads F32, F16 and BF16 safetensors tensors', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer); // 1, -2, 0.5
    const bfloat = new Uint8Array(new Uint16Array([0x3f80, 0x4040]).buffer); // 1, 3
    const tensors = parseSafetensors(
      'w.safetensors',
      safetensors({
        a: { dtype: 'F32', shape: [2, 2], bytes: f32([1, 2, 3, 4]) },
        b: { dtype: 'F16', shape: [3], bytes: half },
        c: { dtype: 'BF16', shape: [2], bytes: bfloat },
      }),
    );
    expect(Array.from(tensors.get('a')!.values)).toEqual([1, 2, 3, 4]);
    expect(tensors.get('a')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('b')!.values)).toEqual([1, -2, 0.5]);
    expect(Array.from(tensors.get('c')!.values)).toEqual([1, 3]);
  });

  it('rejects broken files with an error naming the file', () => {
    expect(() => parseSafetensors('x.safetensors', new Uint8Array(4))).toThrow(/x.safetensors: too short/);
    const lying = safetensors({ a: { dtype: 'F32', shape: [3], bytes: f32([1, 2]) } });
    expect(() => parseSafetensors('y.safetensors', lying)).toThrow(
      /y.safetensors: tensor a: shape \[3\] needs 3 values/,
    );
    const ints = safetensors({ a: { dtype: 'I64' as 'F32', shape: [1], bytes: new Uint8Array(8) } });
    expect(() => parseSafetensors('z.safetensors', ints)).toThrow(/z.safetensors: tensor a has dtype I64/);
  });
});

describe('applyPretrained', () => {
  it('maps PyTorch-layout tensors with permutations, leaving unmapped weights alone', async () => {
    const reference = smallCnn().net;
    const target = smallCnn().net;
    for (const w of target.weights) w.write(tf.zerosLike(w.read()));
    // PyTorch keeps conv kernels as [O, I, H, W] and linear weights as [out, in].
    const conv = tf.transpose(weightOf(reference, 'block1_conv/kernel'), [3, 2, 0, 1]);
    const dense = tf.transpose(weightOf(reference, 'hash/kernel'), [1, 0]);
    const bias = tf.reshape(weightOf(reference, 'hash/bias'), [1, 1, 8]); // extra size-1 axes are dropped
    const dir = await mkdtemp(path.join(tmpdir(), 'edgehash-pretrained-'));
    const weights = path.join(dir, 'backbone.safetensors');
    await writeFile(
      weights,
      safetensors({
        'features.0.weight': { dtype: 'F32', shape: conv.shape, bytes: f32(conv.dataSync() as Float32Array) },
        'head.weight': { dtype: 'F32', shape: dense.shape, bytes: f32(dense.dataSync() as Float32Array) },
        'head.bias': { dtype: 'F32', shape: bias.shape, bytes: f32(bias.dataSync() as Float32Array) },
      }),
    );
    const mapping = path.join(dir, 'mapping.json');
    await writeFile(
      mapping,
      JSON.stringify({
        'block1_conv/kernel': { source: 'features.0.weight', transpose: [2, 3, 1, 0] },
        'hash/kernel': { source: 'head.weight', transpose: [1, 0] },
        'hash/bias': 'head.bias',
      }),
    );
    const report = await loadPretrained(target, { weights, mapping });
    expect(report.loaded).toEqual(['block1_conv/kernel', 'hash/kernel', 'hash/bias']);
    expect(report.untouched).toContain('block1_bn/gamma');
    for (const name of report.loaded) {
      expect(weightOf(target, name).arraySync()).toEqual(weightOf(reference, name).arraySync());
    }
    expect(Array.from(weightOf(target, 'block1_bn/gamma').dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('matches names as they are in an ONNX file without a mapping', async () => {
    const reference = smallCnn().net;
    const target = smallCnn().net;
    for (const w of target.weights) w.write(tf.zerosLike(w.read()));
    const initializer = reference.weights.map((w) =>
      tensorProto(w.originalName, w.read().dataSync() as Float32Array, w.shape as number[]),
    );
    const dir = await mkdtemp(path.join(tmpdir(), 'edgehash-pretrained-'));
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, encodeModel({ irVersion: 8, graph: { name: 'weights', initializer } }));
    const report = applyPretrained(target, await readWeightFile(file), file);
    expect(report.untouched).toEqual([]);
    for (const w of reference.weights) {
      expect(weightOf(target, w.originalName).arraySync()).toEqual(w.read().arraySync());
    }
  });

  it('names the file and the tensor on a missing or mis-shaped tensor, and changes nothing', () => {
    const net = smallCnn().net;
    const before = net.weights.map((w) => w.read().arraySync());
    const sources = new Map([['k', { shape: [2, 2], values: new Float32Array(4) }]]);
    expect(() => applyPretrained(net, sources, 'b.onnx', { 'hash/kernel': 'nope' })).toThrow(
      /b.onnx: tensor nope \(for hash\/kernel\) is missing/,
    );
    expect(() => applyPretrained(net, sources, 'b.onnx', { 'hash/bias': 'k', 'hash/kernel': 'k' })).toThrow(
      /b.onnx: tensor k has shape \[2,2\].*needs \[8\]/,
    );
    expect(() => applyPretrained(net, sources, 'b.onnx', { 'not/a/weight': 'k' })).toThrow(WeightFileError);
    expect(() => applyPretrained(net, sources, 'b.onnx')).toThrow(/no tensor name matches/);
    expect(net.weights.map((w) => w.read().arraySync())).toEqual(before);
  });
});

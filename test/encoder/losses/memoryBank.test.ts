import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBank } from '../../../encoder/losses/memoryBank.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('MemoryBank', () => {
  it('reserve() orders rows by first sight; write() fills them; read() returns copies by dataset index', () => {
    const bank = new MemoryBank(2, 3, 1);
    bank.reserve(Int32Array.of(40, 10, 30));
    bank.write({
      indices: Int32Array.of(30, 20),
      outputs: Float32Array.of(1, 2, 3, 4),
      labels: Float32Array.of(0, 0, 1, 1, 0, 0),
    });
    expect(bank.size).toBe(4);
    expect(Array.from(bank.rowsOf(Int32Array.of(40, 10, 30, 20)))).toEqual([0, 1, 2, 3]);
    const rows = bank.read(Int32Array.of(20, 40, 30));
    expect(Array.from(rows.indices)).toEqual([20, 40, 30]);
    expect(Array.from(rows.outputs)).toEqual([3, 4, 0, 0, 1, 2]);
    expect(Array.from(rows.labels)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    rows.outputs[0] = 99;
    expect(bank.read(Int32Array.of(20)).outputs[0]).toBe(3);
  });

  it('update() from tensors equals write() of the same rows', () => {
    const viaTensors = new MemoryBank(2, 2);
    const viaArrays = new MemoryBank(2, 2);
    const indices = Int32Array.of(5, 7);
    tf.tidy(() =>
      viaTensors.update(
        indices,
        tf.tensor2d([
          [1, -1],
          [0.5, 0.25],
        ]),
        tf.tensor2d([
          [1, 0],
          [0, 1],
        ]),
      ),
    );
    viaArrays.write({ indices, outputs: Float32Array.of(1, -1, 0.5, 0.25), labels: Float32Array.of(1, 0, 0, 1) });
    expect(viaTensors.read(indices)).toEqual(viaArrays.read(indices));
  });

  it('rejects rows whose arrays do not match their indices, and unknown indices on read', () => {
    const bank = new MemoryBank(2, 2);
    expect(() =>
      bank.write({ indices: Int32Array.of(1), outputs: Float32Array.of(1), labels: Float32Array.of(1, 0) }),
    ).toThrow(/1 indices need 2 outputs and 2 labels, got 1 and 2/);
    expect(() => bank.read(Int32Array.of(3))).toThrow(/dataset index 3 is not in the memory bank/);
  });
});

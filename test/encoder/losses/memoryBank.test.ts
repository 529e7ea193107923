import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DshLoss } from '../../../encoder/losses/dsh.js';
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

  it('writtenTensors() leaves out rows reserved but not yet written, in row order', () => {
    const bank = new MemoryBank(1, 2, 1);
    bank.reserve(Int32Array.of(8, 9, 10));
    bank.write({ indices: Int32Array.of(10, 8), outputs: Float32Array.of(3, 1), labels: Float32Array.of(0, 1, 1, 0) });
    const partial = bank.writtenTensors();
    expect(Array.from(partial.outputs.dataSync())).toEqual([1, 3]);
    expect(Array.from(partial.labels.dataSync())).toEqual([1, 0, 0, 1]);
    tf.dispose(partial);
    bank.write({ indices: Int32Array.of(9), outputs: Float32Array.of(2), labels: Float32Array.of(1, 1) });
    const whole = bank.writtenTensors();
    const all = bank.tensors();
    expect(Array.from(whole.outputs.dataSync())).toEqual(Array.from(all.outputs.dataSync()));
    expect(Array.from(whole.outputs.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([whole, all]);
  });
});

describe('pair losses over a bank', () => {
  // A data-parallel replica reserves its peer's share of the batch before writing its own; until the
  // peer's rows arrive they must not count as zero codes with no label (dissimilar to everything).
  it('ignore rows a replica has reserved for its peer but not yet received', () => {
    const context = { bits: 4, numClasses: 2, seed: 0 };
    const u = tf.tensor2d([
      [0.5, -0.2, 0.1, 0.9],
      [-0.4, 0.3, -0.8, 0.2],
    ]);
    const labels = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const indices = Int32Array.of(0, 1);
    const alone = new DshLoss(context);
    const replica = new DshLoss(context);
    replica.bank?.reserve(Int32Array.of(0, 1, 2, 3));
    const expected = alone.compute(u, labels, indices).dataSync()[0];
    expect(replica.compute(u, labels, indices).dataSync()[0]).toBeCloseTo(expected, 6);
    tf.dispose([u, labels]);
  });
});

// The learning-rate schedule: cosine decay to a floor, with an optional linear warmup before it.
import { describe, expect, it } from 'vitest';
import { describeSchedule, learningRateAt } from '../../../encoder/train/schedule.js';

const base = { learningRate: 0.002, finalLearningRateFraction: 0.05 };
const rates = (schedule: Parameters<typeof learningRateAt>[0], total: number, perEpoch: number) =>
  Array.from({ length: total }, (_, step) => learningRateAt(schedule, step, total, perEpoch));

describe('learningRateAt', () => {
  it('without warmup: the full rate at step 0, half-way down the cosine in the middle, the floor last', () => {
    const r = rates(base, 101, 10);
    expect(r[0]).toBeCloseTo(0.002, 12);
    expect(r[50]).toBeCloseTo(0.002 * (0.05 + 0.95 * 0.5), 12);
    expect(r[100]).toBeCloseTo(0.002 * 0.05, 12);
    for (let i = 1; i < r.length; i++) expect(r[i]).toBeLessThan(r[i - 1]);
    expect(learningRateAt({ ...base, warmupEpochs: 0 }, 37, 101, 10)).toBe(r[37]);
  });

  it('with warmup: rises linearly over the warmup steps, then runs the whole cosine after them', () => {
    const r = rates({ ...base, warmupEpochs: 2 }, 100, 10);
    expect(r.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, k) => (0.002 * (k + 1)) / 20));
    expect(r[20]).toBeCloseTo(0.002, 12);
    expect(r[99]).toBeCloseTo(0.002 * 0.05, 12);
    for (let i = 1; i < 20; i++) expect(r[i]).toBeGreaterThan(r[i - 1]);
    for (let i = 21; i < 100; i++) expect(r[i]).toBeLessThan(r[i - 1]);
    // Fractional epochs round to whole steps; a warmup longer than the run leaves its last step to the cosine.
    expect(learningRateAt({ ...base, warmupEpochs: 0.25 }, 1, 100, 10)).toBeCloseTo(0.002 * (2 / 3), 12);
    expect(learningRateAt({ ...base, warmupEpochs: 50 }, 9, 10, 10)).toBeCloseTo(0.002, 12);
  });

  it('describes itself for the training log', () => {
    expect(describeSchedule(base)).toBe('learning rate 0.002 with cosine decay to 0.05 of it');
    expect(describeSchedule({ ...base, warmupEpochs: 3 })).toBe(
      'learning rate 0.002, linear warmup over 3 epochs with cosine decay to 0.05 of it',
    );
  });
});

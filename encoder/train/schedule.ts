// The learning rate at each step: an optional linear warmup, then cosine decay to a floor.
import type { TrainConfig } from '../../schemas/trainConfig.js';

type Schedule = Pick<TrainConfig['training'], 'learningRate' | 'finalLearningRateFraction' | 'warmupEpochs'>;

/**
 * Learning rate for 0-based `step` of `totalSteps`. With `warmupEpochs` (w), the first w x
 * stepsPerEpoch steps rise linearly to the full rate (step k at (k + 1) / warmupSteps of it, so the
 * first step is not wasted at 0) and the cosine runs over the steps after them; without, the cosine
 * starts at step 0. The cosine ends at `finalLearningRateFraction` of the rate on the last step.
 */
export function learningRateAt(schedule: Schedule, step: number, totalSteps: number, stepsPerEpoch: number): number {
  const { learningRate, finalLearningRateFraction: floor } = schedule;
  const warmupSteps = Math.min(Math.round((schedule.warmupEpochs ?? 0) * stepsPerEpoch), totalSteps - 1);
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(totalSteps - warmupSteps - 1, 1);
  return learningRate * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** The schedule in words, for the training log. */
export function describeSchedule(schedule: Schedule): string {
  const warmup = schedule.warmupEpochs ? `, linear warmup over ${schedule.warmupEpochs} epochs` : '';
  return `learning rate ${schedule.learningRate}${warmup} with cosine decay to ${schedule.finalLearningRateFraction} of it`;
}

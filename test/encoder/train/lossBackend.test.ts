import { describe, expect, it } from 'vitest';
import { createLoss } from '../../../encoder/losses/index.js';
import { assertLossTrainsOn } from '../../../encoder/train/lossBackend.js';

const context = { bits: 16, numClasses: 10, seed: 0 };

describe('assertLossTrainsOn', () => {
  it('refuses a memory-bank loss on webgpu, naming the loss and the way out', () => {
    for (const name of ['dpsh', 'pal']) {
      expect(() => assertLossTrainsOn(createLoss(name, context), 'webgpu')).toThrow(
        new RegExp(`loss ${name} .*webgpu.*training.backend to 'wasm'`),
      );
    }
  });

  it('lets bank losses train elsewhere and bank-free losses train on webgpu', () => {
    expect(() => assertLossTrainsOn(createLoss('pal', context), 'wasm')).not.toThrow();
    expect(() => assertLossTrainsOn(createLoss('csq', context), 'webgpu')).not.toThrow();
    expect(() => assertLossTrainsOn(createLoss('hashnet', context), 'webgpu')).not.toThrow();
  });
});

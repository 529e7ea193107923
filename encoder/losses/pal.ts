// PAL, the polarization asymmetric loss of seed 000 (MA-Swin hashing):
//   alpha * L_polarization (DPN) + (1 - alpha) * L_asymmetric (ADSH).
// The paper publishes neither its ratio nor its target construction, so both are options: `alpha`
// (default 0.5) and DPN's `targetRule` ('random' | 'minDistance'); every DPN and ADSH option passes
// through. Both terms read the same tanh output u.
// The terms live on different scales: ADSH's squares inner products of range +-bits (about 429 per
// batch in epoch 1 at 64 bits, against DPN's 0.77), so at any alpha short of 1 it sets nearly all of
// the gradient. `balance: 'bits'` divides the asymmetric term by bits^2, putting both on a per-bit
// scale at every code length; 'none' (default) keeps the plain sum.
import * as tf from '@tensorflow/tfjs';
import { AdshLoss } from './adsh.js';
import { DpnLoss } from './dpn.js';
import type { MemoryBank } from './memoryBank.js';
import { choiceOption, numberOption } from './options.js';
import type { HashLoss, LossContext, NamedArray } from './types.js';

export class PalLoss implements HashLoss {
  readonly name = 'pal';
  readonly alpha: number;
  /** The factor on the asymmetric term: 1, or 1 / bits^2 with `balance: 'bits'`. */
  readonly asymmetricScale: number;
  readonly polarization: DpnLoss;
  readonly asymmetric: AdshLoss;

  constructor(ctx: LossContext) {
    this.alpha = numberOption(ctx.options, 'alpha', 0.5, (v) => v >= 0 && v <= 1);
    const balance = choiceOption(ctx.options, 'balance', ['none', 'bits'] as const, 'none');
    this.asymmetricScale = balance === 'bits' ? 1 / (ctx.bits * ctx.bits) : 1;
    this.polarization = new DpnLoss(ctx);
    this.asymmetric = new AdshLoss(ctx);
  }

  /** ADSH's bank (DPN keeps no state). */
  get bank(): MemoryBank {
    return this.asymmetric.bank;
  }

  compute(u: tf.Tensor2D, labels: tf.Tensor2D, indices: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const polarization = this.polarization.compute(u, labels, indices);
      const asymmetric = this.asymmetric.compute(u, labels, indices);
      return tf.add(
        tf.mul(polarization, this.alpha),
        tf.mul(asymmetric, (1 - this.alpha) * this.asymmetricScale),
      ) as tf.Scalar;
    });
  }

  onEpochEnd(epoch: number): void {
    this.asymmetric.onEpochEnd(epoch);
  }

  saveState(): NamedArray[] {
    return this.asymmetric.saveState();
  }

  loadState(entries: readonly NamedArray[]): void {
    this.asymmetric.loadState(entries);
  }

  dispose(): void {
    this.polarization.dispose();
  }
}

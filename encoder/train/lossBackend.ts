import type { HashLoss } from '../losses/types.js';

/**
 * Throws when a loss cannot train on a backend. The bank losses (DPSH, DSH, DAH, ADSH, PAL) write
 * this batch's outputs into a host-memory bank inside the step, a synchronous read back; the webgpu
 * backend has none in Node (tfjs-backend-webgpu reads synchronously only through a browser's
 * OffscreenCanvas), so they would fail mid-epoch with an unrelated-looking error.
 */
export function assertLossTrainsOn(loss: HashLoss, backendName: string): void {
  if (loss.bank !== undefined && backendName === 'webgpu') {
    throw new Error(
      `loss ${loss.name} reads its memory bank back inside each step, which the webgpu backend cannot do ` +
        `in Node (no synchronous GPU readback): set training.backend to 'wasm' or 'tensorflow' for this loss`,
    );
  }
}

// npx tsx bench/train/backendParity.ts --backend webgpu: one CSQ training step's gradients of the
// trainer's models on a backend against the cpu backend (encoder/engine/gradientParity.ts), one JSON
// line per model; exits 1 when a model differs by more than --tolerance. For the backends CI cannot
// reach (a GPU through webgpu or tfjs-node-gpu); wasm is held to the same check in the tests.
import { parseArgs } from 'node:util';
import { type BackendPreference, selectBackend } from '../../encoder/engine/backend.js';
import { gradientParity } from '../../encoder/engine/gradientParity.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    models: { type: 'string', default: 'cnnHash,hybridHash' },
    batch: { type: 'string', default: '8' },
    tolerance: { type: 'string', default: '1e-3' },
  },
});
const selection = await selectBackend(args.backend as BackendPreference);
console.error(`backend: ${selection.name} (${selection.reason})`);
let failed = false;
for (const architecture of args.models.split(',')) {
  const parity = await gradientParity(
    selection.name,
    { architecture, bits: 64, inputSize: 32, channels: 3, numClasses: 10, seed: 0 },
    Number(args.batch),
  );
  const ok = parity.maxRelativeDifference <= Number(args.tolerance);
  failed ||= !ok;
  console.log(JSON.stringify({ bench: 'backendParity', ...parity, tolerance: Number(args.tolerance), ok }));
}
process.exitCode = failed ? 1 : 0;

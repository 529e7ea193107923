// Writes a small learnable CIFAR-10 binary release (test/support/syntheticCifar.ts) for the device
// check's end-to-end training: npx tsx bench/device/syntheticCifar.ts DIR PER_CLASS_PER_BATCH
import { writeSyntheticCifar } from '../../test/support/syntheticCifar.js';

const [dir, perClass = '120'] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: syntheticCifar.ts DIR [PER_CLASS_PER_BATCH]');
await writeSyntheticCifar(dir, Number(perClass));

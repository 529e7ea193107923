// onnxruntime-node on another x86 CPU than the host's: the model runs in a child Node process under
// qemu-user emulating that CPU model, so tests see the kernels onnxruntime picks there (on Haswell:
// AVX2 without VNNI, the integer kernels that add products in saturating int16).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ModelCard } from '../../schemas/modelCard.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./onnxHasherOutputs.ts', import.meta.url));
const QEMU = 'qemu-x86_64';

/** Raw outputs of OnnxHasher for a normalized batch of n images, computed on an emulated `cpu` (qemu -cpu). */
export async function outputsOnEmulatedCpu(
  cpu: string,
  onnx: Uint8Array,
  card: ModelCard,
  batch: Float32Array,
  n: number,
): Promise<Float32Array> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehash-cpu-'));
  try {
    await writeFile(join(dir, 'model.onnx'), onnx);
    await writeFile(join(dir, 'card.json'), JSON.stringify(card));
    await writeFile(join(dir, 'batch.bin'), batch);
    try {
      await run(QEMU, ['-cpu', cpu, process.execPath, '--import', 'tsx', SCRIPT, dir, String(n)], {
        timeout: 180_000,
        maxBuffer: 16 << 20,
      });
    } catch (error) {
      const { code, stderr } = error as { code?: string; stderr?: string };
      if (code === 'ENOENT') throw new Error(`${QEMU} not found: install Debian's qemu-user (.ci/run does)`);
      // qemu warns once per CPU feature TCG lacks; keep only the child's own messages.
      const messages = stderr?.split('\n').filter((line) => !line.includes('TCG'));
      throw new Error(`${QEMU} -cpu ${cpu} failed: ${messages?.join('\n')}`);
    }
    const bytes = await readFile(join(dir, 'outputs.bin'));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

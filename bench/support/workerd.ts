// Bundles a worker entry with esbuild and runs it in workerd through Miniflare, with the kernel
// as a precompiled wasm module (as wrangler would deploy it).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { median } from './stats.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function startWorker(entry: string, name: string): Promise<Miniflare> {
  const outDir = path.join(repoRoot, 'bench/out', name);
  await mkdir(outDir, { recursive: true });
  const outfile = path.join(outDir, 'worker.js');
  await build({
    entryPoints: [path.join(repoRoot, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'error',
    plugins: [
      {
        name: 'kernel-wasm',
        setup(b) {
          b.onResolve({ filter: /hamming\.wasm$/ }, () => ({ path: './hamming.wasm', external: true }));
        },
      },
    ],
  });
  const kernel = await readFile(path.join(repoRoot, 'wasm/build/hamming.wasm'));
  const mf = new Miniflare({
    modulesRoot: outDir,
    modules: [
      { type: 'ESModule', path: outfile },
      { type: 'CompiledWasm', path: path.join(outDir, 'hamming.wasm'), contents: kernel },
    ],
    compatibilityDate: '2025-09-01',
  });
  await mf.ready;
  return mf;
}

/**
 * Median time of 20 empty `/run` requests to the bench worker. workerd does not advance timers while
 * a request computes, so batches are timed from outside, less this overhead.
 */
export async function emptyRequestMs(get: (route: string) => Promise<unknown>, k: number): Promise<number> {
  const empty: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await get(`/run?start=0&count=0&k=${k}`);
    empty.push(performance.now() - t0);
  }
  return median(empty);
}

/**
 * Picks and initialises the tfjs backend the encoder trains on.
 *
 * 'auto' tries, in order: `tensorflow` (tfjs-node-gpu, then tfjs-node; optional native bindings),
 * `webgpu` (tfjs-backend-webgpu + the `webgpu` Dawn package; only if an adapter exists),
 * `wasm` (XNNPack, SIMD, one thread in Node; plus our training kernels), then `cpu` (pure JS).
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerBatchNormKernels } from './batchNormKernels.js';
import { attachSimdKernels } from './simdKernels.js';
import { registerWasmTrainingKernels } from './wasmKernels.js';

export type BackendPreference = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface BackendSelection {
  name: string;
  reason: string;
}

export interface BackendInfo {
  name: string;
  /** wasm only: whether the SIMD binary is in use. */
  simd?: boolean;
  /** Threads the backend computes with (wasm: XNNPack threads; cpu: 1; others: undefined = native). */
  threads?: number;
  /** Training kernels registered by this module for the current backend. */
  extraKernels?: string[];
  /** The last selection's reason. */
  reason?: string;
}

let lastSelection: BackendSelection | undefined;
let extraKernels: string[] = [];

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Dynamic import that TypeScript does not try to resolve (these packages are optional). */
async function optionalImport(specifier: string): Promise<unknown> {
  return import(specifier);
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') failed to initialise`);
  await tf.ready();
}

async function tryTensorflow(): Promise<string> {
  const tried: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await optionalImport(pkg);
    } catch (err) {
      tried.push(`${pkg}: ${errMessage(err)}`);
      continue;
    }
    // tfjs-node registers the 'tensorflow' backend on import (with its own tfjs-core; it must be the
    // same copy as ours, which npm dedupes when versions match).
    if (tf.findBackendFactory('tensorflow') === null) {
      tried.push(`${pkg}: imported but registered no 'tensorflow' backend with this @tensorflow/tfjs copy`);
      continue;
    }
    await activate('tensorflow');
    return `${pkg} loaded (native libtensorflow${pkg.endsWith('-gpu') ? ', CUDA' : ''})`;
  }
  throw new Error(
    `backend 'tensorflow' unavailable: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node could be loaded (${tried.join('; ')})`,
  );
}

async function tryWebgpu(): Promise<string> {
  let webgpuMod: { create?: (opts: string[]) => unknown; globals?: Record<string, unknown> };
  try {
    webgpuMod = (await optionalImport('webgpu')) as typeof webgpuMod;
  } catch (err) {
    throw new Error(`backend 'webgpu' unavailable: npm package 'webgpu' (Dawn for Node) missing (${errMessage(err)})`);
  }
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu === undefined) {
    if (webgpuMod.globals) Object.assign(globalThis, webgpuMod.globals);
    if (typeof webgpuMod.create !== 'function') {
      throw new Error("backend 'webgpu' unavailable: package 'webgpu' has no create() export");
    }
    const gpu = webgpuMod.create([]);
    if (g.navigator === undefined) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    }
  }
  const gpu = g.navigator?.gpu as { requestAdapter: () => Promise<unknown | null> };
  const adapter = await gpu.requestAdapter();
  if (adapter === null || adapter === undefined) {
    throw new Error("backend 'webgpu' unavailable: package 'webgpu' loaded but no GPU adapter was found");
  }
  try {
    await optionalImport('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    throw new Error(`backend 'webgpu' unavailable: @tensorflow/tfjs-backend-webgpu missing (${errMessage(err)})`);
  }
  await activate('webgpu');
  return 'WebGPU adapter found via Dawn (package webgpu)';
}

/** Directory holding tfjs-backend-wasm's .wasm binaries, with a trailing separator. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkgJson), 'dist') + path.sep;
}

let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | undefined;

async function tryWasm(): Promise<string> {
  let wasmMod: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmMod = await import('@tensorflow/tfjs-backend-wasm');
  } catch (err) {
    throw new Error(`backend 'wasm' unavailable: @tensorflow/tfjs-backend-wasm missing (${errMessage(err)})`);
  }
  if (wasmModule === undefined) {
    // In Node the binaries are read from the filesystem; point tfjs at the package's dist folder.
    wasmMod.setWasmPaths(wasmBinaryDir());
    // Node has no SharedArrayBuffer-backed worker pool here: one thread.
    wasmMod.setThreadsCount(1);
    wasmModule = wasmMod;
  }
  // Register before activation so the training kernels exist from the first op.
  extraKernels = registerWasmTrainingKernels();
  registerBatchNormKernels();
  try {
    await activate('wasm');
  } catch (err) {
    throw new Error(`backend 'wasm' failed to initialise: ${errMessage(err)}`);
  }
  await attachSimdKernels(tf.backend() as BackendWasm);
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return `wasm (XNNPack${simd ? ', SIMD' : ', no SIMD'}, ${wasmMod.getThreadsCount()} thread) with ${extraKernels.length} training kernels registered`;
}

async function tryCpu(): Promise<string> {
  await activate('cpu');
  return 'pure-JS cpu backend';
}

const ATTEMPTS: Record<Exclude<BackendPreference, 'auto'>, () => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Selects and initialises a tfjs backend. With 'auto', the first of tensorflow, webgpu, wasm, cpu
 * that works is used and the reason lists why the earlier ones were skipped. An explicit preference
 * that cannot be satisfied throws an Error naming what is missing.
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<BackendSelection> {
  if (preference !== 'auto') {
    if (!(preference in ATTEMPTS)) throw new Error(`unknown backend preference '${String(preference)}'`);
    const why = await ATTEMPTS[preference]();
    lastSelection = { name: tf.getBackend(), reason: `requested '${preference}': ${why}` };
    return lastSelection;
  }
  const skipped: string[] = [];
  for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    try {
      const why = await ATTEMPTS[name]();
      const reason = skipped.length > 0 ? `auto: ${why}; skipped: ${skipped.join('; ')}` : `auto: ${why}`;
      lastSelection = { name: tf.getBackend(), reason };
      return lastSelection;
    } catch (err) {
      skipped.push(errMessage(err));
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.join('; ')}`);
}

/** Fewest images per replica share that the default replica count allows. */
export const MIN_REPLICA_SHARE = 16;

/**
 * Training replicas to run by default on a backend: one per core where the backend computes on one
 * thread (wasm in Node, cpu), one where it parallelises by itself (libtensorflow's thread pool, a
 * GPU), since replicas there would only contend for the same device. Each replica keeps at least
 * MIN_REPLICA_SHARE images of the batch: on 16 cores at batch 128, 8 replicas trained cnnHash at
 * 723 img/s and 16 (8 images each) at 665 (README, "Training throughput"), and smaller shares also
 * make BatchNorm's batch statistics noisier.
 */
export function defaultWorkers(backendName: string, batchSize: number): number {
  if (backendName !== 'wasm' && backendName !== 'cpu') return 1;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(batchSize / MIN_REPLICA_SHARE)));
}

/** What the current backend is, for logs and reports. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend();
  const info: BackendInfo = { name };
  if (name === 'wasm') {
    info.simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    info.threads = wasmModule?.getThreadsCount() ?? 1;
    info.extraKernels = [...extraKernels];
  } else if (name === 'cpu') {
    info.threads = 1;
  }
  if (lastSelection !== undefined && lastSelection.name === name) info.reason = lastSelection.reason;
  return info;
}

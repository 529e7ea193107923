// The edge worker inside workerd for tests and benchmarks: edge/index.ts bundled by esbuild the way
// wrangler bundles it (the two .wasm imports become CompiledWasm modules, since workerd cannot compile
// wasm at run time), served by Miniflare with KV and R2 bindings.
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Log, Miniflare, type MiniflareOptions } from 'miniflare';
import { defaultLocalBindingIds, type LocalBindingIds } from '../../../encoder/publish/localStores.js';
import { bindings } from '../../../schemas/storage.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The worker's wasm imports, by the specifier edge/ code imports them with. */
const wasmModules = {
  'hamming.wasm': path.join(repoRoot, 'wasm/build/hamming.wasm'),
  'ort-wasm-simd-threaded.wasm': path.join(repoRoot, 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'),
};

/** Same as wrangler.toml's compatibility_date. */
export const COMPATIBILITY_DATE = '2025-09-01';

// Module names are paths relative to this root; the contents are passed in memory, nothing is written.
const modulesRoot = path.join(repoRoot, 'edge');

/** Whether the widget scripts (gitignored) are missing or older than a source under edge/ui or schemas. */
function widgetStale(): boolean {
  const built = path.join(repoRoot, 'edge/ui/dist/uiScripts.js');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const sources = ['edge/ui/widget', 'edge/ui/demo', 'edge/hashing', 'schemas'].flatMap((dir) =>
    readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' }).map((f) =>
      path.join(repoRoot, dir, f),
    ),
  );
  return sources.some((file) => statSync(file).mtimeMs > builtAt);
}

export async function bundleWorker(): Promise<MiniflareOptions['modules']> {
  // The worker serves the widget scripts that edge/ui/build.ts generates (gitignored); built again
  // when a source changed since, so a test never serves a stale widget.
  if (widgetStale()) {
    await (await import('../../../edge/ui/build.js')).buildWidget();
    // The build leaves unchanged outputs untouched; mark this one checked against the sources now.
    const now = new Date();
    utimesSync(path.join(repoRoot, 'edge/ui/dist/uiScripts.js'), now, now);
  }
  const result = await build({
    entryPoints: [path.join(repoRoot, 'edge/index.ts')],
    bundle: true,
    write: false,
    outfile: 'worker.js',
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    logLevel: 'error',
    plugins: [
      {
        name: 'compiled-wasm',
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: `./${path.basename(args.path)}`, external: true }));
        },
      },
    ],
  });
  const wasm = await Promise.all(
    Object.entries(wasmModules).map(async ([name, file]) => ({
      type: 'CompiledWasm' as const,
      path: path.join(modulesRoot, name),
      contents: await readFile(file),
    })),
  );
  return [
    { type: 'ESModule', path: path.join(modulesRoot, 'worker.js'), contents: result.outputFiles[0].text },
    ...wasm,
  ];
}

export interface EdgeWorkerOptions {
  /** Plain-text env vars (ADMIN_SECRET, ALLOWED_ORIGINS, POINTER_TTL_MS, ...). */
  vars?: Record<string, string>;
  /** Keep KV and R2 on disk here (wrangler dev's layout) instead of in memory. */
  persistRoot?: string;
  /**
   * Where the bindings live inside the persist root; wrangler dev's (and `edgehash publish`'s) come
   * from wrangler.toml: pass `await localBindingIds()` to serve what they wrote.
   */
  ids?: LocalBindingIds;
  /** Serve on this port of 127.0.0.1 as well (for load generators). */
  port?: number;
  /** Where the worker's console and workerd's messages go (Miniflare prints nothing by default). */
  log?: Log;
  /** Receives workerd's stdout and stderr (the worker's console lines) instead of this process. */
  handleRuntimeStdio?: (stdout: Readable, stderr: Readable) => void;
}

export async function startEdgeWorker(options: EdgeWorkerOptions = {}): Promise<Miniflare> {
  const mf = new Miniflare({
    modulesRoot,
    modules: await bundleWorker(),
    compatibilityDate: COMPATIBILITY_DATE,
    kvNamespaces: { [bindings.kv]: (options.ids ?? defaultLocalBindingIds).kvNamespaceId },
    r2Buckets: { [bindings.r2]: (options.ids ?? defaultLocalBindingIds).r2BucketName },
    bindings: options.vars ?? {},
    ...(options.persistRoot ? { defaultPersistRoot: options.persistRoot } : {}),
    ...(options.port !== undefined ? { host: '127.0.0.1', port: options.port } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.handleRuntimeStdio ? { handleRuntimeStdio: options.handleRuntimeStdio } : {}),
  });
  await mf.ready;
  return mf;
}

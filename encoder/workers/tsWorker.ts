// Worker threads whose entry is a TypeScript module: the repository runs its TypeScript through
// tsx's loader with no build step, and a worker has to register that loader itself.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** File URL of a package subpath's ESM entry ("import" condition), found through its package.json. */
function resolveEsm(pkg: string, subpath: string): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = require(manifestPath) as { exports?: Record<string, unknown> };
  let target: unknown = manifest.exports?.[subpath];
  // Follow the "import" condition (then "default") down to a path.
  while (target !== null && typeof target === 'object') {
    const conditions = target as Record<string, unknown>;
    target = conditions.import ?? conditions.default;
  }
  if (typeof target !== 'string') throw new Error(`${pkg} has no ESM export for ${subpath}`);
  return pathToFileURL(path.join(path.dirname(manifestPath), target)).href;
}

/**
 * Starts a worker running the TypeScript module at `entry`. Its entry is a data: URL module that
 * registers tsx's loader in the worker, then imports `entry`. (`new Worker(url, { execArgv:
 * ['--import', 'tsx'] })` does not load .ts entries on Node 20: "Unknown file extension .ts";
 * registering from inside the worker does.)
 */
export function startTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const tsxApi = resolveEsm('tsx', './esm/api');
  const code = [
    `const api = await import(${JSON.stringify(tsxApi)});`,
    'api.register();',
    `await import(${JSON.stringify(entry.href)});`,
  ].join('\n');
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { execArgv: [], ...options });
}

// The widget script's size budget: <= 30 KB gzipped, with onnxruntime-web and zod left out (the
// runtime is imported lazily from ort-base, only for hash="browser"). Prints the measured figure.
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, uiDir } from '../../edge/ui/build.js';
import { ORT_SCRIPT } from '../../edge/ui/widget/browserHash.js';

const BUDGET_GZIP_BYTES = 30 * 1024;

describe('widget bundle', () => {
  it('fits 30 KB gzipped and imports onnxruntime-web only at run time', async () => {
    const script = await bundleForBrowser(path.join(uiDir, 'widget/index.ts'));
    const gzipBytes = gzipSync(script, { level: 9 }).length;
    console.log(JSON.stringify({ bench: 'widget', bytes: Buffer.byteLength(script), gzip_bytes: gzipBytes }));
    expect(gzipBytes).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    // The runtime's own code (its wasm backend, emscripten glue) stays out; only the lazy import is there.
    expect(script).not.toMatch(/ort-wasm-simd-threaded\.mjs|emscripten/i);
    expect(script).toContain(ORT_SCRIPT);
    expect(script).not.toMatch(/ZodObject|ZodError/);
    expect(script).toContain('edgehash-search');
  });
});

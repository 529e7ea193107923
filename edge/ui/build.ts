// `npm run build:widget`: bundles the widget and the demo script with esbuild into edge/ui/dist/
// (gitignored):
//   edgehash-widget.js   the standalone widget, one script tag on any page or CDN
//   demo.js              the demo page's gallery
//   uiScripts.js         both as strings, the module edge/ui/routes.ts serves them from
//   public/ort/          onnxruntime-web's browser files, served as static assets for hash="browser"
//   public/_headers      CORS for them, so a widget embedded on another site can import them
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { ORT_SCRIPT, ORT_WASM } from './widget/browserHash.js';

export const uiDir = path.dirname(fileURLToPath(import.meta.url));
export const distDir = path.join(uiDir, 'dist');
export const widgetFile = path.join(distDir, 'edgehash-widget.js');
export const ortAssetsDir = path.join(distDir, 'public', 'ort');
const ortDist = path.join(uiDir, '../../node_modules/onnxruntime-web/dist');
export const ORT_FILES = [ORT_SCRIPT, ORT_WASM];

// The widget validates nothing (the server does), yet reuses constants and pure helpers from
// schemas/, whose modules build zod schemas at load time. An inert stand-in for zod keeps zod's
// ~60 KB (gzipped) out of the bundle; calling a schema method in the widget would get no validation.
const zodStandIn: Plugin = {
  name: 'zod-stand-in',
  setup(b) {
    b.onResolve({ filter: /^zod$/ }, () => ({ path: 'zod', namespace: 'zod-stand-in' }));
    b.onLoad({ filter: /.*/, namespace: 'zod-stand-in' }, () => ({
      contents: 'const z = new Proxy(function () {}, { get: () => z, apply: () => z }); export { z };',
      loader: 'js',
    }));
  },
};

/** One minified standalone browser script (IIFE) of a TypeScript entry file. */
export async function bundleForBrowser(entryPath: string): Promise<string> {
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    write: false,
    legalComments: 'none',
    plugins: [zodStandIn],
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

/**
 * Writes only what changed: `wrangler dev` watches edge/ and rebuilds on every write, so rewriting
 * identical outputs would rebuild forever.
 */
async function writeIfChanged(file: string, contents: string | Uint8Array): Promise<void> {
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
  const current = existsSync(file) ? await readFile(file) : undefined;
  if (!current?.equals(bytes)) await writeFile(file, bytes);
}

export async function buildWidget(): Promise<{ bytes: number; gzipBytes: number }> {
  const [widget, demo] = await Promise.all(
    ['widget/index.ts', 'demo/gallery.ts'].map((entry) => bundleForBrowser(path.join(uiDir, entry))),
  );
  await mkdir(ortAssetsDir, { recursive: true });
  const uiScripts = `export const widgetScript = ${JSON.stringify(widget)};\nexport const demoScript = ${JSON.stringify(demo)};\n`;
  await Promise.all([
    writeIfChanged(widgetFile, widget),
    writeIfChanged(path.join(distDir, 'demo.js'), demo),
    writeIfChanged(path.join(distDir, 'uiScripts.js'), uiScripts),
    ...ORT_FILES.map(async (file) =>
      writeIfChanged(path.join(ortAssetsDir, file), await readFile(path.join(ortDist, file))),
    ),
    // Workers static assets read custom response headers from this file.
    writeIfChanged(path.join(ortAssetsDir, '..', '_headers'), '/ort/*\n  Access-Control-Allow-Origin: *\n'),
  ]);
  return { bytes: Buffer.byteLength(widget), gzipBytes: gzipSync(widget, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = await buildWidget();
  console.log(`edge/ui/dist/edgehash-widget.js: ${size.bytes} bytes, ${size.gzipBytes} gzipped`);
}

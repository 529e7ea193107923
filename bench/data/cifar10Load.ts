/**
 * Times loading CIFAR-10 JPEG folders: `npx tsx bench/data/cifar10Load.ts [root] [cacheDir]`.
 * Run once with an empty cache dir for the cold figure; the second load in the same run reads the cache.
 */
import { loadCifar10Jpeg } from '../../encoder/data/loaders.js';

const root = process.argv[2] ?? 'data/cifar10-jpg';
const cacheDir = process.argv[3] ?? 'data/.cache/decoded';

for (const label of ['first', 'second']) {
  const t0 = performance.now();
  const ds = await loadCifar10Jpeg(root, {
    cacheDir,
    onProgress: (done, total) => {
      if (done % 10000 === 0) process.stderr.write(`  ${done}/${total}\n`);
    },
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${label} load: ${s.toFixed(2)} s, ${ds.size} images ${ds.height}x${ds.width}x${ds.channels}, ` +
      `decoded ${ds.loadInfo?.decoded}, cacheHit ${ds.loadInfo?.cacheHit}, test ${ds.testIndices?.length}, skipped ${ds.skipped}`,
  );
}

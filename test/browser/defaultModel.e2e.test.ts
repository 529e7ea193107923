// The embedded default in a real browser: with the trained int8 model and the demo collection that
// ship in defaults/, images of the collection searched through the demo page return mostly results
// of their own class. Expected layout (skipped, saying what is missing, until it exists):
//   defaults/model.int8.onnx, defaults/model.int8.card.json
//   defaults/collection/   a finished `edgehash encode` job (job.json, shards, metadata, thumbnails)
// The collection's thumbnails are the query images; they are not uploaded (thousands of R2 writes
// would dominate the test), so the result grid shows labels and distances without pictures.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_FILE, jobShards, requireFinishedJob } from '../../encoder/encode/job.js';
import { publishVersion } from '../../encoder/publish/publish.js';
import type { IndexStores } from '../../encoder/publish/store.js';
import { ItemMetadata } from '../../schemas/item.js';
import { repoRoot } from '../edge/support/worker.js';
import { launchChromium } from './support/chromium.js';
import { DemoPage, outDir } from './support/demoPage.js';
import { type DemoServer, startDemoServer } from './support/demoServer.js';

const K = 12;
/** "Most results share the query's class": mean precision@K over one query per class. */
const MIN_MEAN_PRECISION = 0.5;

const defaultsDir = process.env.EDGEHASH_DEFAULTS_DIR ?? path.join(repoRoot, 'defaults');
const modelFile = path.join(defaultsDir, 'model.int8.onnx');
const cardFile = path.join(defaultsDir, 'model.int8.card.json');
const collectionDir = path.join(defaultsDir, 'collection');
const missing = [modelFile, cardFile, path.join(collectionDir, JOB_FILE)].filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.log(`skipped: the embedded default is not in this checkout (missing ${missing.join(', ')})`);
}

interface Query {
  id: number;
  label: string;
  file: string;
}

/** The first item of each class in the first shard, with its thumbnail file as the query image. */
async function classQueries(): Promise<Query[]> {
  const job = await requireFinishedJob(collectionDir);
  const shard = job.shards.find((s) => s.count > 0 && s.thumbnails);
  if (!shard) throw new Error(`${collectionDir}: no shard with thumbnails to query with`);
  const lines = (await readFile(path.join(collectionDir, shard.metadata), 'utf8')).split('\n').filter(Boolean);
  const byLabel = new Map<string, Query>();
  for (const line of lines) {
    const item = ItemMetadata.parse(JSON.parse(line));
    const label = item.labels?.[0];
    const file = path.join(collectionDir, shard.thumbnails!, `${item.id}.jpg`);
    if (label && !byLabel.has(label) && existsSync(file)) byLabel.set(label, { id: item.id, label, file });
  }
  return [...byLabel.values()];
}

describe.skipIf(missing.length > 0)('the embedded default model and demo collection (defaults/)', () => {
  let server: DemoServer;
  let browser: Browser;
  let demo: DemoPage;

  beforeAll(async () => {
    const seed = async (stores: IndexStores) => {
      const job = await requireFinishedJob(collectionDir);
      const shards = jobShards(collectionDir, job).map(({ thumbnails: _, ...shard }) => shard);
      const model = { onnx: new Uint8Array(await readFile(modelFile)), card: new Uint8Array(await readFile(cardFile)) };
      await publishVersion(stores, { shards, model });
    };
    [server, browser] = await Promise.all([startDemoServer(seed), launchChromium()]);
    demo = await DemoPage.open(browser, server.url);
    await demo.widget().evaluate((el, k) => el.setAttribute('k', String(k)), K);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it(`returns mostly the query's class (mean precision@${K} >= ${MIN_MEAN_PRECISION})`, async () => {
    const queries = await classQueries();
    expect(queries.length).toBeGreaterThan(1);
    const precisions: number[] = [];
    for (const query of queries) {
      const event = await demo.nextEvent(() => demo.choose(query.file));
      expect(event.type).toBe('results');
      const others = event.labels!.filter((_, i) => event.ids![i] !== query.id);
      precisions.push(others.filter((label) => label === query.label).length / others.length);
    }
    const mean = precisions.reduce((a, b) => a + b, 0) / precisions.length;
    console.log(
      JSON.stringify({ bench: 'widget', figure: 'default_precision_at_k', k: K, queries: queries.length, mean }),
    );
    await demo.page.screenshot({ path: path.join(outDir, 'default-demo.png'), fullPage: true });
    expect(mean).toBeGreaterThanOrEqual(MIN_MEAN_PRECISION);
  });
});

// Seeds a Miniflare worker's real KV and R2 bindings through the publish pipeline (publishVersion
// over storesFromBindings), with small generated data: random codes in two shards (an id range and
// an id table with gaps), item metadata, a few thumbnails, and a random-init cnnHash exported to ONNX.
import type { Miniflare } from 'miniflare';
import { CIFAR10_NORMALIZATION } from '../../../encoder/data/augment.js';
import { exportHashModel } from '../../../encoder/export/exportModel.js';
import { buildModelCard } from '../../../encoder/export/modelCard.js';
import { quantizeModel } from '../../../encoder/export/quantize.js';
import { createModel } from '../../../encoder/models/index.js';
import { type PublishResult, publishVersion } from '../../../encoder/publish/publish.js';
import { shardFromCodes } from '../../../encoder/publish/shardFiles.js';
import {
  type IndexStores,
  type KvNamespaceLike,
  type R2BucketLike,
  storesFromBindings,
} from '../../../encoder/publish/store.js';
import type { ItemMetadata } from '../../../schemas/item.js';
import type { ModelCard } from '../../../schemas/modelCard.js';
import { bindings } from '../../../schemas/storage.js';
import { randomBytes, rng } from '../../support/random.js';

export const BITS = 64;
export const BPC = BITS / 8;

export interface TestModel {
  onnx: Uint8Array;
  card: ModelCard;
}

/** One shard of generated codes: row-major codes and the id of each. */
export interface ShardData {
  codes: Uint8Array;
  ids: number[];
}

const CALIBRATION_IMAGES = 8;

/**
 * A random-init cnnHash exported to ONNX and quantized to int8 (weights and calibrated activations),
 * with its card: what `edgehash export --int8 --calibrate` writes. Small widths by default; the
 * benchmark passes the architecture's defaults.
 */
export async function testModel(
  seed = 1,
  options: Record<string, unknown> = { widths: [8, 16], hidden: 0 },
): Promise<TestModel> {
  const config = { architecture: 'cnnHash', bits: BITS, inputSize: 32, channels: 3, numClasses: 10, options, seed };
  const model = createModel(config);
  const exported = exportHashModel(model);
  model.net.dispose();
  const next = rng(seed);
  const inputs = Float32Array.from({ length: CALIBRATION_IMAGES * 32 * 32 * 3 }, () => next() * 4 - 2);
  const int8 = await quantizeModel(exported.onnx, { calibration: { inputs, count: CALIBRATION_IMAGES } });
  const card = buildModelCard({
    modelId: `test-cnn-${seed}`,
    config,
    onnx: { bytes: int8.onnx, inputName: exported.inputName, outputName: exported.outputName, opset: exported.opset },
    normalization: CIFAR10_NORMALIZATION,
    quantization: int8.quantization,
  });
  return { onnx: int8.onnx, card };
}

export function shardData(count: number, ids: (i: number) => number, seed: number): ShardData {
  return { codes: randomBytes(count * BPC, seed), ids: Array.from({ length: count }, (_, i) => ids(i)) };
}

export const metadataOf = (id: number): ItemMetadata => ({
  id,
  source: `test:${id}`,
  labels: [`class${id % 10}`],
  thumbnail: `/v1/items/${id}/thumbnail`,
});

export async function stores(mf: Miniflare): Promise<IndexStores> {
  const kv = (await mf.getKVNamespace(bindings.kv)) as unknown as KvNamespaceLike;
  const r2 = (await mf.getR2Bucket(bindings.r2)) as unknown as R2BucketLike;
  return storesFromBindings(kv, r2);
}

export interface PublishFixture {
  shards: ShardData[];
  model: TestModel | null;
  /** Ids whose thumbnails are uploaded (a 1x1 JPEG-named blob each). */
  thumbnails?: number[];
  activate?: boolean;
}

const isRange = (ids: number[]) => ids.every((id, i) => id === ids[0] + i);

export async function publish(mf: Miniflare, fixture: PublishFixture): Promise<PublishResult> {
  const shards = await Promise.all(
    fixture.shards.map(async (shard, i) => {
      const ids = isRange(shard.ids) ? { base: shard.ids[0] } : Uint32Array.from(shard.ids);
      const input = await shardFromCodes(shard.codes, BITS, ids, shard.ids.map(metadataOf), `shard-${i}`);
      const thumbs = (fixture.thumbnails ?? []).filter((id) => shard.ids.includes(id));
      return thumbs.length === 0
        ? input
        : {
            ...input,
            thumbnails: async function* () {
              for (const id of thumbs) yield { id, jpeg: thumbnailBytes(id) };
            },
          };
    }),
  );
  const model = fixture.model ?? { id: 'code-only', checksum: '0'.repeat(64) };
  return publishVersion(await stores(mf), { shards, model, activate: fixture.activate ?? true });
}

/** Stand-in thumbnail bytes, distinct per id. */
export function thumbnailBytes(id: number): Uint8Array {
  return new TextEncoder().encode(`\xff\xd8thumbnail ${id}`);
}
